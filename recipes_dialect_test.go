package occ_test

// RECIPES.md's Dialect recipes, exactly as documented there, used by the
// tests and examples of this package.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/occ-go/occ"
)

// etcdV2 reads a key's value from its JSON envelope and writes it as a form
// value, conditioned on ?prevIndex (?prevExist=false to create).
var etcdV2 = occ.Dialect{
	Decode: occ.Envelope("/node/value", "/node/modifiedIndex"),
	Encode: func(w *occ.WriteRequest) error {
		w.Body = []byte(url.Values{"value": {string(w.Body)}}.Encode())
		w.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if w.Version == "" {
			return w.SetQuery("prevExist", "false")
		}
		return w.SetQuery("prevIndex", w.Version)
	},
}

// gcsMedia reads an object's bytes at .../b/BUCKET/o/NAME?alt=media with
// their generation, and uploads them conditioned on ?ifGenerationMatch.
var gcsMedia = occ.Dialect{
	Decode: occ.VersionHeader("X-Goog-Generation"),
	Encode: func(w *occ.WriteRequest) error {
		u, err := url.Parse(w.URL)
		if err != nil {
			return err
		}
		bucket, name, ok := strings.Cut(u.Path, "/o/")
		if !ok {
			return errors.New("not an object URL")
		}
		u.Path, u.RawPath = "/upload"+bucket+"/o", ""
		u.RawQuery = url.Values{"uploadType": {"media"}, "name": {name}}.Encode()
		w.Method, w.URL = http.MethodPost, u.String()
		return occ.VersionQuery("ifGenerationMatch", "0")(w)
	},
}

// couchRev carries a CouchDB revision in ?rev= as well as in _rev (with
// occ.WithVersionField("/_rev")).
var couchRev = occ.Dialect{Encode: occ.VersionQuery("rev", "")}

// elastic reads _source and packs _seq_no and _primary_term into one
// version, sent back as if_seq_no and if_primary_term.
var elastic = occ.Dialect{
	Decode: func(_ http.Header, body []byte) ([]byte, string, error) {
		var r struct {
			Source json.RawMessage `json:"_source"`
			SeqNo  *int64          `json:"_seq_no"`
			Term   *int64          `json:"_primary_term"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.SeqNo == nil || r.Term == nil {
			return r.Source, "", err
		}
		return r.Source, url.Values{
			"if_seq_no":       {strconv.FormatInt(*r.SeqNo, 10)},
			"if_primary_term": {strconv.FormatInt(*r.Term, 10)},
		}.Encode(), nil
	},
	Encode: func(w *occ.WriteRequest) error {
		if w.Version == "" {
			return w.SetQuery("op_type", "create")
		}
		q, err := url.ParseQuery(w.Version)
		for k := range q {
			if err == nil {
				err = w.SetQuery(k, q.Get(k))
			}
		}
		return err
	},
}

// githubContents reads a file of a repository through the contents API and
// writes it back with its blob sha, as a commit with a fixed message.
var githubContents = occ.Dialect{
	Decode: func(_ http.Header, body []byte) ([]byte, string, error) {
		var f struct {
			Content json.RawMessage `json:"content"`
			Sha     string          `json:"sha"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			return nil, "", err
		}
		var text string
		if json.Unmarshal(f.Content, &text) != nil { // a write's answer: {"content":{"sha":...},"commit":{...}}
			var written struct{ Sha string }
			_ = json.Unmarshal(f.Content, &written)
			return nil, written.Sha, nil
		}
		doc, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(text, "\n", ""))
		return doc, f.Sha, err
	},
	Encode: func(w *occ.WriteRequest) error {
		commit := map[string]string{"message": "occ: update", "content": base64.StdEncoding.EncodeToString(w.Body)}
		if w.Version != "" {
			commit["sha"] = w.Version
		}
		body, err := json.Marshal(commit)
		w.Body = body
		w.Header.Set("Content-Type", "application/json")
		return err
	},
}

// consulKV reads a key's value and ModifyIndex and writes the raw value with
// ?cas=; Consul answers a failed check-and-set with 200 false, which Decode
// turns into a version conflict.
var consulKV = occ.Dialect{
	Decode: func(_ http.Header, body []byte) ([]byte, string, error) {
		switch strings.TrimSpace(string(body)) {
		case "true": // a write landed; the answer has no index (occ reads again)
			return nil, "", nil
		case "false":
			return nil, "", &occ.ConflictError{Kind: occ.KindVersion, Message: "check-and-set failed"}
		}
		var kv []struct {
			Value       []byte
			ModifyIndex uint64
		}
		if err := json.Unmarshal(body, &kv); err != nil || len(kv) != 1 {
			return nil, "", errors.Join(errors.New("want one key"), err)
		}
		return kv[0].Value, strconv.FormatUint(kv[0].ModifyIndex, 10), nil
	},
	Encode: occ.VersionQuery("cas", "0"),
}
