package occ

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inMemory is an http.RoundTripper that serves requests in-process, so that
// tests can run under testing/synctest with a fake clock. Like net/http's
// Transport, it reports through httptrace that it got a connection and
// wrote the request before the handler runs. A handler that panics with
// http.ErrAbortHandler yields a transport error after the request was
// written (a reset); one that panics with errRefused, an error before it
// was (a refused connection).
type inMemory struct{ h http.Handler }

var (
	errReset   = errors.New("connection reset by test")
	errRefused = errors.New("connection refused by test")
)

func (m inMemory) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	trace := httptrace.ContextClientTrace(req.Context())
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(req.URL.Host)
	}
	defer func() {
		r := recover()
		if r != errRefused && trace != nil && trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{}) // the handler ran: the request arrived
		}
		switch r {
		case nil:
		case http.ErrAbortHandler:
			resp, err = nil, errReset
		case errRefused:
			resp, err = nil, errRefused
		default:
			panic(r)
		}
	}()
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// fakeAPI is one JSON resource behind a strong ETag that counts writes, with
// a queue of scripted answers that take precedence over the normal ones.
type fakeAPI struct {
	mu      sync.Mutex
	doc     string
	version int
	reqs    []*http.Request
	bodies  []string
	script  []func(w http.ResponseWriter, r *http.Request)
	quiet   bool // record nothing, for benchmarks
}

func newFakeAPI(doc string) *fakeAPI { return &fakeAPI{doc: doc, version: 1} }

func (f *fakeAPI) etag() string { return `"` + strconv.Itoa(f.version) + `"` }

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	if !f.quiet {
		f.reqs = append(f.reqs, r.Clone(r.Context()))
		f.bodies = append(f.bodies, string(body))
	}
	var next func(http.ResponseWriter, *http.Request)
	if len(f.script) > 0 {
		next, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if next != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r)
		return
	}
	f.serve(w, r, body)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		if r.Header.Get("If-Match") != f.etag() {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		f.doc = string(body)
		f.version++
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("ETag", f.etag())
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, f.doc)
}

// pass serves r normally: a scripted answer that changes nothing.
func (f *fakeAPI) pass(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.serve(w, r, body)
}

// then queues scripted answers.
func (f *fakeAPI) then(answers ...func(http.ResponseWriter, *http.Request)) *fakeAPI {
	f.mu.Lock()
	f.script = append(f.script, answers...)
	f.mu.Unlock()
	return f
}

// count returns how many requests of a method the API saw.
func (f *fakeAPI) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Method == method {
			n++
		}
	}
	return n
}

// requests returns the requests of a method, with their bodies.
func (f *fakeAPI) requests(method string) ([]*http.Request, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rs []*http.Request
	var bs []string
	for i, r := range f.reqs {
		if r.Method == method {
			rs, bs = append(rs, r), append(bs, f.bodies[i])
		}
	}
	return rs, bs
}

// reply returns a scripted answer with a status, headers and body.
func reply(status int, body string, kv ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// reset is a scripted answer that drops the connection after the request
// arrived.
func reset(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }

// refuse is a scripted answer that fails before the request was written,
// like a refused connection.
func refuse(http.ResponseWriter, *http.Request) { panic(errRefused) }

// memClient returns a client whose requests f serves in-process, with no
// backoff unless opts set one.
func memClient(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithHTTPClient(&http.Client{Transport: inMemory{h}}),
		WithBackoff(BackoffFunc(func(int) time.Duration { return 0 })),
		WithTransientRetries(4, BackoffFunc(func(int) time.Duration { return 0 })),
	}
	c, err := New(append(base, opts...)...)
	require.NoError(t, err)
	return c
}
