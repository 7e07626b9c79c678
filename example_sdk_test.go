package occ_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// Hooks see every operation end, once, with what it did: the place to end
// a span or record a latency. OnRequest sees every HTTP request.
func ExampleWithHooks() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/orders/42", []byte(`{"status":"new","tags":[]}`))
	srv.BeforeNextWrite(func(*http.Request) { // someone else's write, just before ours
		_ = srv.Update("/orders/42", func(doc map[string]any) { doc["status"] = "paid" })
	})

	hooks := occ.Hooks{
		OnRequest: func(_ context.Context, r occ.Request) { fmt.Println("request:", r.Method) },
		OnEnd: func(_ context.Context, r occ.Result) {
			fmt.Printf("%s %s: %d attempts, %d conflict (%s), version %s\n",
				r.Name, r.Outcome, r.Attempts, r.Conflicts, r.Kind, r.Version)
		},
	}
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithHooks(hooks))
	if err != nil {
		panic(err)
	}
	_, err = occ.Modify(context.Background(), c, srv.URL+"/orders/42", func(o *Order) error {
		o.Tags = append(o.Tags, "priority")
		return nil
	})
	fmt.Println(err)
	// Output:
	// request: GET
	// request: PUT
	// request: GET
	// request: PUT
	// Modify ok: 2 attempts, 1 conflict (version), version "3"
	// <nil>
}

// A merger built with an invalid option is refused by New, before any
// request, not at the first conflict.
func ExampleNew_invalidMerger() {
	_, err := occ.New(occ.WithMerger(occ.ThreeWay(occ.MergeArraysByKey("lines", "sku"))))
	fmt.Println(errors.Is(err, occ.ErrInvalidArgument), errors.Is(err, occ.ErrInvalidMergeOption))
	fmt.Println(err)
	// Output:
	// true true
	// occ: invalid argument: WithMerger: invalid merge option: invalid JSON Pointer "lines": must start with /
}
