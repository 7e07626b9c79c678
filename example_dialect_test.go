package occ_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// etcd's v2 keys API keeps a value in a JSON envelope, takes writes as form
// values, and checks the version only in the query (?prevIndex=N, or
// ?prevExist=false to create). The etcdV2 recipe (see RECIPES.md) says so in
// a few lines; Create, Get and Modify then work as with any other API.
func ExampleDialect_etcd() {
	etcd := occ.Dialect{
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
	srv := httptest.NewServer(&fakeEtcd{key: "/counter"}) // mimics etcd v2
	defer srv.Close()
	c, _ := occ.New(occ.WithDialect(etcd))
	ctx := context.Background()
	key := srv.URL + "/v2/keys/counter"

	_, _ = occ.Create(ctx, c, key, counterDoc{N: 1})
	_, err := occ.Create(ctx, c, key, counterDoc{N: 1})
	fmt.Println("second create:", errors.Is(err, occ.ErrDuplicate))

	var st occ.Stats
	v, _ := occ.Modify(ctx, c, key, func(v *counterDoc) error { v.N++; return nil }, occ.WithStats(&st))
	fmt.Println("n:", v.N, "modifiedIndex:", st.Version)
	// Output:
	// second create: true
	// n: 2 modifiedIndex: 2
}

// Cloud Storage serves an object's bytes at ?alt=media with its generation
// in X-Goog-Generation, and takes new bytes only at its upload URL, with
// ?ifGenerationMatch=G. ModifyBytes changes objects that are not JSON.
func ExampleVersionQuery() {
	gcs := &fakeGCS{bucket: "b", name: "motd.txt", content: []byte("hello"), ctype: "text/plain", generation: 1}
	srv := httptest.NewServer(gcs) // mimics Cloud Storage's JSON API
	defer srv.Close()
	upload := occ.Dialect{
		Decode: occ.VersionHeader("X-Goog-Generation"),
		Encode: func(w *occ.WriteRequest) error {
			u, err := url.Parse(w.URL) // .../storage/v1/b/BUCKET/o/NAME?alt=media
			if err != nil {
				return err
			}
			bucket, name, _ := strings.Cut(u.Path, "/o/")
			u.Path, u.RawPath = "/upload"+bucket+"/o", ""
			u.RawQuery = url.Values{"uploadType": {"media"}, "name": {name}}.Encode()
			w.Method, w.URL = http.MethodPost, u.String()
			return occ.VersionQuery("ifGenerationMatch", "0")(w)
		},
	}
	c, _ := occ.New(occ.WithDialect(upload))

	b, _ := occ.ModifyBytes(context.Background(), c, srv.URL+"/storage/v1/b/b/o/motd.txt?alt=media",
		func(b []byte) ([]byte, error) { return append(b, ", world"...), nil })
	fmt.Printf("%s (generation %d, %s)\n", b, gcs.generation, gcs.ctype)
	// Output: hello, world (generation 1001, text/plain)
}

// ModifyBytes changes a document that is not JSON, here a vCard on a
// WebDAV server, with the same conditional write and retries as Modify.
func ExampleModifyBytes() {
	dav := &fakeDAV{body: []byte(vcard), ctype: "text/vcard", gen: 1}
	srv := httptest.NewServer(dav)
	defer srv.Close()
	c, _ := occ.New()

	card, _ := occ.ModifyBytes(context.Background(), c, srv.URL+"/ann.vcf", func(b []byte) ([]byte, error) {
		return []byte(strings.Replace(string(b), "FN:Ann", "FN:Ann Smith", 1)), nil
	})
	fmt.Println(strings.Contains(string(card), "FN:Ann Smith"), dav.writes)
	// Output: true 1
}

// Probe checks that a server refuses a stale write and a duplicate create
// before anyone trusts it with concurrent writers.
func ExampleProbe() {
	srv := occtest.NewServer()
	defer srv.Close()
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))

	r, err := occ.Probe(context.Background(), c, srv.URL+"/scratch")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, check := range r.Checks {
		fmt.Println(check.Passed, check.Name)
	}
	fmt.Println("trusted:", r.Passed(), "scratch deleted:", r.Deleted)
	// Output:
	// true version
	// true stale write refused
	// true duplicate create refused
	// trusted: true scratch deleted: true
}
