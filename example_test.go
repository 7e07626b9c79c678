package occ_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// Order is the caller's view of a resource; the server's document may hold
// more members than it models, and they survive every write.
type Order struct {
	Status string   `json:"status"`
	Tags   []string `json:"tags"`
}

// A competing writer slips in between Modify's read and its write; the
// server answers 412, and Modify refreshes, reapplies the change to the new
// state and resubmits. Neither update is lost.
func Example() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/orders/42", []byte(`{"status":"new","tags":[],"total":120}`))
	srv.BeforeNextWrite(func(*http.Request) { // someone else's write, just before ours
		_ = srv.Update("/orders/42", func(doc map[string]any) { doc["status"] = "paid" })
	})

	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	var st occ.Stats
	order, err := occ.Modify(context.Background(), c, srv.URL+"/orders/42",
		func(o *Order) error {
			o.Tags = append(o.Tags, "priority")
			return nil
		}, occ.WithStats(&st))
	if err != nil {
		panic(err)
	}
	doc, _, _ := srv.Get("/orders/42")
	fmt.Printf("%s %v after %d writes, %d conflict\n", order.Status, order.Tags, st.Attempts, st.Conflicts)
	fmt.Println(string(doc))
	// Output:
	// paid [priority] after 2 writes, 1 conflict
	// {"status":"paid","tags":["priority"],"total":120}
}

// Modify with a version kept in the document body, as CouchDB (_rev) and
// Kubernetes (metadata.resourceVersion) do.
func ExampleModify_versionField() {
	srv := occtest.NewServer(occtest.WithoutETags(), occtest.WithVersionField("/version"))
	defer srv.Close()
	_ = srv.Set("/counters/1", []byte(`{"count":1}`))
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))

	type counter struct {
		Count int `json:"count"`
	}
	v, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1",
		func(n *counter) error { n.Count++; return nil },
		occ.WithVersionField("/version"))
	fmt.Println(v.Count, err)
	doc, _, _ := srv.Get("/counters/1")
	fmt.Println(string(doc))
	// Output:
	// 2 <nil>
	// {"count":2,"version":2}
}

// ModifyJSON works on the raw document, for callers without a struct.
func ExampleModifyJSON() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/flags/beta", []byte(`{"enabled":false}`))
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))

	doc, err := occ.ModifyJSON(context.Background(), c, srv.URL+"/flags/beta",
		func(doc []byte) ([]byte, error) { return []byte(`{"enabled":true}`), nil })
	fmt.Println(string(doc), err)
	// Output:
	// {"enabled":true} <nil>
}

// Create makes a document only if it does not exist yet (If-None-Match: *);
// a second create of the same URL is a duplicate conflict, which is never
// retried.
func ExampleCreate() {
	srv := occtest.NewServer()
	defer srv.Close()
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))
	ctx := context.Background()

	v, err := occ.Create(ctx, c, srv.URL+"/users/ann", map[string]string{"email": "ann@example.com"})
	fmt.Println(v.ETag, err)

	_, err = occ.Create(ctx, c, srv.URL+"/users/ann", map[string]string{"email": "ann@example.com"})
	var ce *occ.ConflictError
	if errors.As(err, &ce) {
		fmt.Println(ce.StatusCode, ce.Kind, ce.Retryable())
	}
	// Output:
	// "1" <nil>
	// 412 duplicate false
}

// Get returns a document with the version writes are conditioned on.
func ExampleGet() {
	srv := occtest.NewServer(occtest.WithLastModified(true))
	defer srv.Close()
	_ = srv.Set("/orders/7", []byte(`{"status":"new","tags":["a"]}`))
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))

	v, err := occ.Get[Order](context.Background(), c, srv.URL+"/orders/7")
	fmt.Println(v.Value.Status, v.Value.Tags, v.Version, v.LastModified, err)
	// Output:
	// new [a] "1" Thu, 01 Jan 2026 00:00:01 GMT <nil>
}

// Do sends one request through the transient-retry layer and turns a 409,
// 412 or 428 answer into a *ConflictError, for callers that run their own
// loop.
func ExampleClient_Do() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/orders/9", []byte(`{"status":"new"}`))
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))

	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/orders/9", nil)
	req.Header.Set("If-Match", `"stale"`)
	_, err := c.Do(req)
	fmt.Println(errors.Is(err, occ.ErrPreconditionFailed))
	// Output:
	// true
}

// Put writes a document a person edited against the version they saw. Here
// someone else changed the email meanwhile: the three-way merge keeps both
// edits. Had both changed the email, Put would return a
// *MergeConflictError listing base, mine and theirs for a person to decide.
func ExamplePut() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/profiles/1", []byte(`{"name":"Ann","email":"a@x.io"}`))
	c, _ := occ.New(occ.WithHTTPClient(srv.Client()))
	ctx, url := context.Background(), srv.URL+"/profiles/1"

	type Profile struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	seen, _ := occ.Get[Profile](ctx, c, url) // the form is filled from this
	_ = srv.Update("/profiles/1", func(doc map[string]any) { doc["email"] = "ann@work.io" })

	edited := seen.Value
	edited.Name = "Ann B."
	got, err := occ.Put(ctx, c, url, seen, edited)
	fmt.Println(got.Value, err)
	// Output:
	// {Ann B. ann@work.io} <nil>
}
