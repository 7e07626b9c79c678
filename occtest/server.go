package occtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// Server is a [Store] served over HTTP (or HTTPS) on 127.0.0.1 by an
// [httptest.Server]. Its methods are safe for concurrent use.
type Server struct {
	*Store
	// URL is the base URL of the server, of the form http://127.0.0.1:port
	// (https:// for [NewTLSServer]), with no trailing slash.
	URL string

	srv *httptest.Server
}

// New starts a Server, as [NewServer] does, and registers its Close with
// t.Cleanup, so that it is closed when the test and its subtests end. An
// invalid option fails the test (t.Fatal) instead of panicking.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if _, err := newConfig(opts); err != nil {
		t.Fatal(err)
		return nil
	}
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// NewServer starts a Server on a free port of 127.0.0.1 serving a new
// [Store] configured by opts; with no options, the defaults of [NewStore].
// The caller must call [Server.Close] when done (or use [New]). NewServer
// panics if an option is invalid or it cannot listen.
func NewServer(opts ...Option) *Server {
	return start(opts, (*httptest.Server).Start)
}

// NewTLSServer is [NewServer] serving HTTPS with a self-signed certificate
// for 127.0.0.1, which the client of [Server.Client] trusts, as
// [httptest.NewTLSServer] does.
func NewTLSServer(opts ...Option) *Server {
	return start(opts, (*httptest.Server).StartTLS)
}

// start serves a new Store on 127.0.0.1 through run (Start or StartTLS).
func start(opts []Option, run func(*httptest.Server)) *Server {
	st := NewStore(opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("occtest: cannot listen on 127.0.0.1: %v", err))
	}
	srv := httptest.NewUnstartedServer(st)
	srv.Listener.Close()
	srv.Listener = ln
	run(srv)
	if tr, ok := srv.Client().Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = maxIdleConns
	}
	return &Server{Store: st, URL: srv.URL, srv: srv}
}

// Close shuts the server down, closing its connections and the idle
// connections of [Server.Client], and blocks until all requests have
// finished. It may be called more than once.
func (s *Server) Close() { s.srv.Close() }

// maxIdleConns is how many idle connections [Server.Client] keeps, so that
// concurrent tests reuse connections instead of opening new ones.
const maxIdleConns = 64

// Client returns an HTTP client configured for the server: it trusts the
// certificate of a [NewTLSServer], keeps up to 64 idle connections, so that
// concurrent requests reuse them, and its idle connections are closed by
// [Server.Close]. Every call returns the same client.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// ErrConnectionReset is the error (wrapped in the client's *url.Error) that
// a request through [Transport] fails with when the handler aborts it; it
// also matches syscall.ECONNRESET with errors.Is.
var ErrConnectionReset = fmt.Errorf("occtest: connection reset: %w", syscall.ECONNRESET)

// Transport returns an http.RoundTripper that serves each request in
// process through h, with no network and no goroutines, so that it works
// inside a testing/synctest bubble. A handler that panics with
// [http.ErrAbortHandler] yields [ErrConnectionReset] and no response, as a
// reset connection would, unless it had flushed its headers: then the
// response comes back and reading its body fails with io.ErrUnexpectedEOF
// after the bytes sent (a [Fault] with Truncate). A request whose context
// ends before the handler flushed an answer fails with the context's error.
// Any other panic propagates. Transport is safe for concurrent use if h is.
func Transport(h http.Handler) http.RoundTripper {
	return transport{h: h}
}

// transport implements [Transport].
type transport struct{ h http.Handler }

// RoundTrip serves req through the handler and returns the recorded answer.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	err := serveInProcess(t.h, rec, serverRequest(req))
	if err != nil && !rec.Flushed {
		return nil, err
	}
	if ctxErr := req.Context().Err(); ctxErr != nil && !rec.Flushed {
		return nil, ctxErr // the client gave up before an answer came
	}
	resp := rec.Result()
	resp.Request = req
	if err != nil { // aborted after the headers: the body is cut short
		resp.Body = io.NopCloser(io.MultiReader(resp.Body, errReader{io.ErrUnexpectedEOF}))
	}
	return resp, nil
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// serverRequest turns a client request into the one a handler would see.
func serverRequest(req *http.Request) *http.Request {
	sr := req.Clone(req.Context())
	sr.RequestURI = req.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:1"
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	return sr
}

// serveInProcess runs h, turning an http.ErrAbortHandler panic into
// ErrConnectionReset.
func serveInProcess(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
				err = ErrConnectionReset
				return
			}
			panic(v)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
