package occtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// Counter is the client's view of the resource in the examples.
type Counter struct {
	Count int `json:"count"`
}

// A concurrent writer sneaks in once, between the client's read and its
// write. occ's conditional write gets 412, so occ reads again, reapplies its
// change and writes again: both increments land, and the request log shows
// how.
func ExampleStore_BeforeNextWrite() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/counters/1", []byte(`{"count":1,"owner":"ann"}`))
	srv.BeforeNextWrite(func(*http.Request) { // before the next write only
		_ = srv.Update("/counters/1", func(doc map[string]any) {
			n, _ := doc["count"].(json.Number).Int64() // numbers stay exact
			doc["count"] = n + 10
		})
	})

	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	got, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1",
		func(v *Counter) error { v.Count++; return nil })
	if err != nil {
		panic(err)
	}

	fmt.Println("occ wrote count", got.Count)
	for _, r := range srv.Requests() {
		fmt.Printf("%s %s If-Match:%s -> %d ETag:%s\n", r.Method, r.Path,
			r.Header.Get("If-Match"), r.Status, r.ResponseHeader.Get("ETag"))
	}
	doc, _, _ := srv.Get("/counters/1")
	fmt.Println(string(doc))
	// Output:
	// occ wrote count 12
	// GET /counters/1 If-Match: -> 200 ETag:"1"
	// PUT /counters/1 If-Match:"1" -> 412 ETag:
	// GET /counters/1 If-Match: -> 200 ETag:"2"
	// PUT /counters/1 If-Match:"2" -> 200 ETag:"3"
	// {"count":12,"owner":"ann"}
}

// A client reads a resource, someone else changes it, and the client's
// conditional write is refused with 412 instead of silently losing the other
// change.
func ExampleNewServer() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/items/1", []byte(`{"count":1}`))

	resp, _ := srv.Client().Get(srv.URL + "/items/1")
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	fmt.Println("read:", resp.StatusCode, etag)

	// A competing writer.
	_ = srv.Update("/items/1", func(doc map[string]any) { doc["count"] = 10.0 })

	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/items/1", strings.NewReader(`{"count":2}`))
	req.Header.Set("If-Match", etag)
	resp, _ = srv.Client().Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("write:", resp.StatusCode, resp.Header.Get("Content-Type"))
	fmt.Println(string(body))

	doc, etag, _ := srv.Get("/items/1")
	fmt.Println("stored:", string(doc), etag, "writes:", srv.Writes())
	// Output:
	// read: 200 "1"
	// write: 412 application/problem+json
	// {"type":"urn:occtest:problem:version_conflict","title":"Precondition Failed","status":412,"detail":"If-Match does not match the current ETag of /items/1","code":"version_conflict"}
	// stored: {"count":10} "2" writes: 0
}

// BeforeWrite slips a competing write in between the client's read and its
// write; with a version field the stale write gets a Kubernetes-like 409.
func ExampleStore_BeforeWrite() {
	srv := occtest.NewServer(occtest.WithVersionField("/version"))
	defer srv.Close()
	_ = srv.Set("/items/1", []byte(`{"count":1}`))
	srv.BeforeWrite(func(*http.Request) {
		_ = srv.Update("/items/1", func(doc map[string]any) { doc["count"] = 10.0 })
	})

	resp, _ := srv.Client().Post(srv.URL+"/items", "application/json", strings.NewReader(`{"count":0}`))
	resp.Body.Close()
	fmt.Println("create:", resp.StatusCode, resp.Header.Get("Location"))

	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/items/1", strings.NewReader(`{"count":2,"version":1}`))
	resp, _ = srv.Client().Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("write:", resp.StatusCode)
	fmt.Println(string(body))
	// Output:
	// create: 201 /items/2
	// write: 409
	// {"type":"urn:occtest:problem:version_conflict","title":"Conflict","status":409,"detail":"the object has been modified; please apply your changes to the latest version and try again","code":"version_conflict","errors":[{"pointer":"/version","detail":"stale version 1; the current version is 3"}]}
}

// Transport serves a Store in process, with no network: suitable inside a
// testing/synctest bubble. An injected reset surfaces as a transport error.
func ExampleTransport() {
	st := occtest.NewStore(occtest.WithLastModified(true))
	client := &http.Client{Transport: occtest.Transport(st)}

	resp, _ := client.Post("http://store/orders", "application/json", strings.NewReader(`{"status":"new"}`))
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))

	st.Inject(occtest.Fault{Method: http.MethodGet, Reset: true})
	_, err := client.Get("http://store/orders/1")
	fmt.Println("reset:", errors.Is(err, occtest.ErrConnectionReset))
	// Output:
	// 201 /orders/1 "1" Thu, 01 Jan 2026 00:00:01 GMT
	// reset: true
}

// A gateway answers 502 after the origin applied the write. The client
// cannot tell; its resend with the same Idempotency-Key gets the origin's
// answer replayed, and the write is applied once.
func ExampleFault_statusAfterWrite() {
	srv := occtest.NewServer()
	defer srv.Close()
	_ = srv.Set("/items/1", []byte(`{"n":1}`))
	srv.Inject(occtest.Fault{Method: http.MethodPut, StatusAfterWrite: http.StatusBadGateway})

	for range 2 {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/items/1", strings.NewReader(`{"n":2}`))
		req.Header.Set("If-Match", `"1"`)
		req.Header.Set("Idempotency-Key", "put-1")
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println("client sees", resp.StatusCode)
	}
	for _, r := range srv.Requests() {
		kind := occtest.FaultKind("none")
		if r.Fault != nil {
			kind = r.Fault.Kind()
		}
		fmt.Printf("%s fault=%s status=%d applied=%t replayed=%t\n", r.Method, kind, r.Status, r.Applied, r.Replayed)
	}
	fmt.Println("writes:", srv.Writes())
	// Output:
	// client sees 502
	// client sees 200
	// PUT fault=status-after-write status=502 applied=true replayed=false
	// PUT fault=none status=200 applied=false replayed=true
	// writes: 1
}

// Faults hit at random for a soak test, reproducibly for a seed; the
// request log says which hit which request.
func ExampleStore_InjectRandom() {
	st := occtest.NewStore()
	_ = st.Set("/items/1", []byte(`{"n":1}`))
	st.InjectRandom(42,
		occtest.RandomFault{Fault: occtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"1"}}}, Rate: 0.1},
		occtest.RandomFault{Fault: occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true}, Rate: 0.1},
	)
	client := &http.Client{Transport: occtest.Transport(st)}
	for i := range 1000 {
		req, _ := http.NewRequest(http.MethodPut, "http://store/items/1", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	hits := map[occtest.FaultKind]int{}
	applied := 0
	for _, r := range st.Requests() {
		if r.Fault != nil {
			hits[r.Fault.Kind()]++
		}
		if r.Applied {
			applied++
		}
	}
	fmt.Println("503:", hits[occtest.FaultStatus], "lost answers:", hits[occtest.FaultResetAfterWrite])
	fmt.Println("applied:", applied, "writes:", st.Writes())
	// Output:
	// 503: 101 lost answers: 91
	// applied: 899 writes: 899
}
