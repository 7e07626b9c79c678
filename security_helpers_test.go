package occ_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// The secrets a test client sends, one per credential kind. Each holds
// secretMarker, which no text occ produces may contain.
const (
	secretMarker   = "s3cr3t"
	secretAuthz    = "Bearer s3cr3t-authz-9f2c"
	secretProxy    = "Basic s3cr3t-proxy-41aa"
	secretCookie   = "session=s3cr3t-cookie-77d0"
	secretAPIKey   = "s3cr3t-apikey-5b1e"
	secretAmzToken = "s3cr3t-amztoken-c3d9"
	secretTenant   = "s3cr3t-tenant-0e6f"
	secretTrans    = "s3cr3t-transport-a8b2"
	secretQuery    = "s3cr3t-query-6c4d"
	secretPrivate  = "s3cr3t-private-2d7a"
)

// credentialHeaders are the headers every secret-bearing client sets
// through WithHeader, with their values.
var credentialHeaders = map[string]string{
	"Authorization":        secretAuthz,
	"Proxy-Authorization":  secretProxy,
	"Cookie":               secretCookie,
	"X-Api-Key":            secretAPIKey,
	"X-Amz-Security-Token": secretAmzToken,
	"X-Tenant":             secretTenant,
}

// secretQueryString is the query every secret-bearing call's URL carries.
const secretQueryString = "?api_key=" + secretQuery + "&private_token=" + secretPrivate

// addsHeader is a transport that adds a credential of its own to every
// request, as an auth RoundTripper would.
type addsHeader struct{ rt http.RoundTripper }

func (a addsHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Transport-Token", secretTrans)
	return a.rt.RoundTrip(req)
}

// secretOptions returns the options of a client that sends every kind of
// credential: WithHeader ones, and its transport's, through hc (a client
// with a fresh transport when nil, its idle connections closed when t
// ends).
func secretOptions(t *testing.T, hc *http.Client) []occ.Option {
	t.Helper()
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		hc = &http.Client{Transport: tr}
	}
	cp := *hc
	rt := cp.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	cp.Transport = addsHeader{rt}
	opts := []occ.Option{occ.WithHTTPClient(&cp), occ.WithTransientRetries(3, occ.BackoffFunc(func(int) time.Duration { return 0 }))}
	for k, v := range credentialHeaders {
		opts = append(opts, occ.WithHeader(k, v))
	}
	return opts
}

// secretClient is a client made with secretOptions and opts.
func secretClient(t *testing.T, hc *http.Client, opts ...occ.Option) *occ.Client {
	t.Helper()
	c, err := occ.New(append(secretOptions(t, hc), opts...)...)
	require.NoError(t, err)
	return c
}

// hits is what a thief server received.
type hits struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (h *hits) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs)
}

// headers returns every header value the thief received, joined.
func (h *hits) headers() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.reqs {
		for k, vs := range r.Header {
			b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		b.WriteString(r.URL.RawQuery + "\n")
	}
	return b.String()
}

// thief starts a server on 127.0.0.2, the "other host", that records every
// request and answers a JSON document with an ETag.
func thief(t *testing.T) (*httptest.Server, *hits) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not available here: %v", err)
	}
	h := &hits{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.reqs = append(h.reqs, r.Clone(context.Background()))
		h.mu.Unlock()
		w.Header().Set("ETag", `"evil"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count":666,"v":"evil"}`))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, h
}

// secScripted is a handler answering its requests in turn with answers; past
// the last, the last answers again. It records the requests.
type secScripted struct {
	mu      sync.Mutex
	answers []func(http.ResponseWriter, *http.Request)
	got     []*http.Request
}

func secScript(answers ...func(http.ResponseWriter, *http.Request)) *secScripted {
	return &secScripted{answers: answers}
}

func (s *secScripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r.Clone(context.Background()))
	a := s.answers[min(len(s.got), len(s.answers))-1]
	s.mu.Unlock()
	a(w, r)
}

// sAnswer returns an answer of status with body and headers kv (key, value,
// key, value, ...).
func sAnswer(status int, body string, kv ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// doc200 answers the document {"count":1} with an ETag.
var doc200 = sAnswer(http.StatusOK, `{"count":1,"v":"1"}`, "ETag", `"1"`)
