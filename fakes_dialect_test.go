package occ_test

// Fakes of real servers' conditional-write semantics, as documented by each
// project and observed on the real servers (see the recipes' tests). Each
// keeps one document, counts writes, and records what it was sent.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// fakeEtcd mimics the etcd v2 keys API for one key: form values, ?prevIndex
// and ?prevExist preconditions, a global index, errorCode bodies.
type fakeEtcd struct {
	mu       sync.Mutex
	key      string // "/k"
	value    string
	exists   bool
	modified int // the key's modifiedIndex
	index    int // the store's index
	writes   int
}

func (f *fakeEtcd) node() map[string]any {
	return map[string]any{"key": f.key, "value": f.value, "modifiedIndex": f.modified, "createdIndex": 1}
}

func (f *fakeEtcd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Etcd-Index", strconv.Itoa(f.index))
	switch r.Method {
	case http.MethodGet:
		if !f.exists {
			f.fail(w, 404, 100, "Key not found", f.key)
			return
		}
		writeJSON(w, 200, map[string]any{"action": "get", "node": f.node()})
	case http.MethodPut:
		f.put(w, r)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeEtcd) put(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm() // etcd reads form values only: a JSON body is an empty value
	q := r.URL.Query()
	if q.Get("prevExist") == "false" && f.exists {
		f.fail(w, 412, 105, "Key already exists", f.key)
		return
	}
	if p := q.Get("prevIndex"); p != "" {
		if !f.exists {
			f.fail(w, 404, 100, "Key not found", f.key)
			return
		}
		if p != strconv.Itoa(f.modified) {
			f.fail(w, 412, 101, "Compare failed", fmt.Sprintf("[%s != %d]", p, f.modified))
			return
		}
	}
	prev, existed := f.node(), f.exists
	f.index++
	f.writes++
	f.value, f.exists, f.modified = r.PostForm.Get("value"), true, f.index
	answer := map[string]any{"action": "set", "node": f.node()}
	status := 200
	switch {
	case !existed:
		answer["action"], status = "create", 201
	case q.Has("prevIndex"):
		answer["action"], answer["prevNode"] = "compareAndSwap", prev
	default:
		answer["prevNode"] = prev
	}
	w.Header().Set("X-Etcd-Index", strconv.Itoa(f.index))
	writeJSON(w, status, answer)
}

func (f *fakeEtcd) fail(w http.ResponseWriter, status, code int, msg, cause string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "message": msg, "cause": cause, "index": f.index})
}

// fakeGCS mimics Cloud Storage's JSON API for one object of one bucket:
// media reads with X-Goog-Generation, a PUT to the object that updates
// metadata only, and media uploads with ?ifGenerationMatch.
type fakeGCS struct {
	mu         sync.Mutex
	bucket     string
	name       string
	content    []byte
	ctype      string
	generation int64 // 0: absent
	writes     int
}

func (f *fakeGCS) objectPath() string { return "/storage/v1/b/" + f.bucket + "/o/" + f.name }

func (f *fakeGCS) metadata() map[string]any {
	return map[string]any{"kind": "storage#object", "bucket": f.bucket, "name": f.name,
		"generation": strconv.FormatInt(f.generation, 10), "metageneration": "1",
		"contentType": f.ctype, "size": strconv.Itoa(len(f.content))}
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == f.objectPath() && r.Method == http.MethodGet:
		if f.generation == 0 {
			gcsError(w, 404, "notFound", "No such object")
			return
		}
		w.Header().Set("X-Goog-Generation", strconv.FormatInt(f.generation, 10))
		if r.URL.Query().Get("alt") == "media" {
			w.Header().Set("Content-Type", f.ctype)
			_, _ = w.Write(f.content)
			return
		}
		writeJSON(w, 200, f.metadata())
	case r.URL.Path == f.objectPath() && r.Method == http.MethodPut:
		writeJSON(w, 200, f.metadata()) // a metadata update: the body's content is ignored
	case r.URL.Path == "/upload/storage/v1/b/"+f.bucket+"/o" && r.Method == http.MethodPost:
		f.upload(w, r)
	default:
		gcsError(w, 404, "notFound", "Not Found")
	}
}

func (f *fakeGCS) upload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("uploadType") != "media" || q.Get("name") != f.name {
		gcsError(w, 400, "invalid", "Bad upload")
		return
	}
	if m := q.Get("ifGenerationMatch"); m != "" && m != strconv.FormatInt(f.generation, 10) {
		gcsError(w, 412, "conditionNotMet", "Precondition Failed")
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.content, f.ctype = body, r.Header.Get("Content-Type")
	f.generation += 1000 // generations are timestamps: large, increasing
	f.writes++
	writeJSON(w, 200, f.metadata()) // no X-Goog-Generation on an upload answer
}

func gcsError(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []any{map[string]any{"message": msg, "domain": "global", "reason": reason}}}})
}

// fakeCouch mimics CouchDB (and PouchDB) for one document: the revision in
// _rev and in ?rev, which must agree, {"ok","id","rev"} receipts, and
// "Document update conflict." for a stale or missing revision.
type fakeCouch struct {
	mu     sync.Mutex
	id     string
	doc    map[string]any // without _id and _rev
	gen    int            // 0: absent
	writes int
	sent   []string // bodies of writes
}

func (f *fakeCouch) rev() string { return fmt.Sprintf("%d-%x", f.gen, f.gen*7919) }

func (f *fakeCouch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		if f.gen == 0 {
			writeJSON(w, 404, map[string]any{"error": "not_found", "reason": "missing"})
			return
		}
		out := map[string]any{"_id": f.id, "_rev": f.rev()}
		for k, v := range f.doc {
			out[k] = v
		}
		w.Header().Set("ETag", `"`+f.rev()+`"`)
		writeJSON(w, 200, out)
	case http.MethodPut:
		f.put(w, r)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeCouch) put(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.sent = append(f.sent, string(raw))
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, 400, map[string]any{"error": "bad_request", "reason": "invalid UTF-8 JSON"})
		return
	}
	bodyRev, _ := body["_rev"].(string)
	rev := r.URL.Query().Get("rev")
	if rev != "" && bodyRev != "" && rev != bodyRev {
		writeJSON(w, 400, map[string]any{"error": "bad_request", "reason": "Document rev from request body and query string have different values"})
		return
	}
	if rev == "" {
		rev = bodyRev
	}
	if (f.gen == 0 && rev != "") || (f.gen != 0 && rev != f.rev()) {
		writeJSON(w, 409, map[string]any{"error": "conflict", "reason": "Document update conflict."})
		return
	}
	delete(body, "_id")
	delete(body, "_rev")
	f.doc = body
	f.gen++
	f.writes++
	w.Header().Set("ETag", `"`+f.rev()+`"`)
	writeJSON(w, 201, map[string]any{"ok": true, "id": f.id, "rev": f.rev()})
}

// fakeElastic mimics Elasticsearch's document API for one document:
// _source in a metadata envelope, if_seq_no + if_primary_term, op_type=create,
// version_conflict_engine_exception.
type fakeElastic struct {
	mu      sync.Mutex
	source  json.RawMessage // nil: absent
	seqNo   int
	version int
	writes  int
}

func (f *fakeElastic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		if f.source == nil {
			writeJSON(w, 404, map[string]any{"_index": "idx", "_id": "1", "found": false})
			return
		}
		writeJSON(w, 200, map[string]any{"_index": "idx", "_id": "1", "_version": f.version,
			"_seq_no": f.seqNo, "_primary_term": 1, "found": true, "_source": f.source})
	case http.MethodPut:
		f.put(w, r)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeElastic) put(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("op_type") == "create" && f.source != nil {
		esConflict(w, fmt.Sprintf("[1]: version conflict, document already exists (current version [%d])", f.version))
		return
	}
	if s, t := q.Get("if_seq_no"), q.Get("if_primary_term"); s != "" || t != "" {
		if f.source == nil || s != strconv.Itoa(f.seqNo) || t != "1" {
			esConflict(w, fmt.Sprintf("[1]: version conflict, required seqNo [%s], primary term [%s]. current document has seqNo [%d] and primary term [1]", s, t, f.seqNo))
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	if !json.Valid(body) {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"type": "mapper_parsing_exception"}, "status": 400})
		return
	}
	result, status := "updated", 200
	if f.source == nil {
		result, status = "created", 201
	}
	f.source, f.seqNo, f.version, f.writes = body, f.seqNo+1, f.version+1, f.writes+1
	writeJSON(w, status, map[string]any{"_index": "idx", "_id": "1", "_version": f.version, "result": result,
		"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}, "_seq_no": f.seqNo, "_primary_term": 1})
}

func esConflict(w http.ResponseWriter, reason string) {
	cause := map[string]any{"type": "version_conflict_engine_exception", "reason": reason, "index_uuid": "x", "shard": "0", "index": "idx"}
	writeJSON(w, 409, map[string]any{"error": map[string]any{"root_cause": []any{cause},
		"type": "version_conflict_engine_exception", "reason": reason, "index_uuid": "x", "shard": "0", "index": "idx"}, "status": 409})
}

// fakeGitHub mimics GitHub's repository contents API for one file: base64
// content with line breaks, the blob sha, a sha required to replace a file.
type fakeGitHub struct {
	mu      sync.Mutex
	path    string
	content []byte // nil: absent
	writes  int
	sent    []string
}

func blobSHA(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// wrap76 breaks base64 text into lines as GitHub does.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60] + "\n")
		s = s[60:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		if f.content == nil {
			writeJSON(w, 404, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content", "status": "404"})
			return
		}
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "size": len(f.content),
			"name": f.path, "path": f.path, "sha": blobSHA(f.content),
			"content": wrap76(base64.StdEncoding.EncodeToString(f.content))})
	case http.MethodPut:
		f.put(w, r)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeGitHub) put(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.sent = append(f.sent, string(raw))
	var in struct{ Message, Content, Sha string }
	if err := json.Unmarshal(raw, &in); err != nil || in.Message == "" {
		writeJSON(w, 422, map[string]any{"message": "Invalid request.", "status": "422"})
		return
	}
	content, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		writeJSON(w, 422, map[string]any{"message": "content is not valid Base64", "status": "422"})
		return
	}
	switch {
	case f.content != nil && in.Sha == "":
		writeJSON(w, 422, map[string]any{"message": "Invalid request.\n\n\"sha\" wasn't supplied.", "status": "422"})
		return
	case f.content != nil && in.Sha != blobSHA(f.content):
		writeJSON(w, 409, map[string]any{"message": f.path + " does not match " + in.Sha,
			"documentation_url": "https://docs.github.com/rest/repos/contents#create-or-update-file-contents", "status": "409"})
		return
	}
	status := 200
	if f.content == nil {
		status = 201
	}
	f.content = content
	f.writes++
	writeJSON(w, status, map[string]any{"content": map[string]any{"name": f.path, "path": f.path, "sha": blobSHA(content)},
		"commit": map[string]any{"sha": fmt.Sprintf("%040d", f.writes), "message": in.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fakeConsul mimics Consul's KV store for one key: a JSON array with the
// base64 value and ModifyIndex on reads, raw values on writes, ?cas=N
// (cas=0: only if absent), and 200 true or false for the outcome.
type fakeConsul struct {
	mu     sync.Mutex
	value  []byte // nil: absent
	index  uint64 // ModifyIndex
	raft   uint64
	writes int
}

func (f *fakeConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.raft, 10))
	switch r.Method {
	case http.MethodGet:
		if f.value == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeJSON(w, 200, []any{map[string]any{"LockIndex": 0, "Key": "k", "Flags": 0,
			"Value": base64.StdEncoding.EncodeToString(f.value), "CreateIndex": 1, "ModifyIndex": f.index}})
	case http.MethodPut:
		if cas := r.URL.Query().Get("cas"); cas != "" {
			want := strconv.FormatUint(f.index, 10)
			if f.value == nil {
				want = "0"
			}
			if cas != want {
				writeJSON(w, 200, false)
				return
			}
		}
		f.raft++
		f.value, f.index, f.writes = body, f.raft, f.writes+1
		writeJSON(w, 200, true)
	}
}
