package occ_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a server that records every request it gets.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	h    http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *recorder) methods() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var m []string
	for _, q := range r.reqs {
		m = append(m, q.Method)
	}
	return m
}

// otherOrigins returns two targets other than srv: another host, and the
// same host on another port.
func otherOrigins(t *testing.T, h http.Handler) map[string]*httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not available here: %v", err)
	}
	other := httptest.NewUnstartedServer(h)
	other.Listener.Close()
	other.Listener = ln
	other.Start()
	port := httptest.NewServer(h)
	t.Cleanup(func() { other.Close(); port.Close() })
	return map[string]*httptest.Server{"another host": other, "another port": port}
}

func TestWritesNeverFollowRedirects(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		target := &recorder{h: occtest.NewStore()}
		for name, to := range otherOrigins(t, target) {
			t.Run(http.StatusText(code)+"/"+name, func(t *testing.T) {
				origin := occtest.NewStore()
				require.NoError(t, origin.Set("/items/1", []byte(`{"count":1}`)))
				redirect := func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet {
						origin.ServeHTTP(w, r)
						return
					}
					http.Redirect(w, r, to.URL+r.URL.Path, code)
				}
				front := httptest.NewServer(http.HandlerFunc(redirect))
				defer front.Close()
				c, err := occ.New()
				require.NoError(t, err)
				_, err = occ.Modify(context.Background(), c, front.URL+"/items/1", func(v *counter) error { v.Count++; return nil })
				var se *occ.StatusError
				require.ErrorAs(t, err, &se, "a 3xx to a write is no success")
				assert.Equal(t, code, se.StatusCode)
				assert.Equal(t, to.URL+"/items/1", se.Header.Get("Location"))
				assert.Empty(t, target.methods(), "nothing, not even a GET, reached the redirect's target")
				got, _, _ := origin.Get("/items/1")
				assert.JSONEq(t, `{"count":1}`, string(got))
			})
		}
	}
}

// TestReadsFollowRedirectsElsewhereOnlyWhenAllowed: by default a read
// does not follow a redirect to another origin (the 3xx comes back); the
// caller's CheckRedirect can let it.
func TestReadsFollowRedirectsElsewhereOnlyWhenAllowed(t *testing.T) {
	target := &recorder{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"7"`)
		_, _ = io.WriteString(w, `{"count":7}`)
	})}
	for name, to := range otherOrigins(t, target) {
		t.Run(name, func(t *testing.T) {
			front := httptest.NewServer(http.RedirectHandler(to.URL+"/items/1", http.StatusFound))
			defer front.Close()
			c, err := occ.New()
			require.NoError(t, err)
			_, err = occ.Get[counter](context.Background(), c, front.URL+"/items/1")
			var se *occ.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, http.StatusFound, se.StatusCode)
			allow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
			c, err = occ.New(occ.WithHTTPClient(allow))
			require.NoError(t, err)
			got, err := occ.Get[counter](context.Background(), c, front.URL+"/items/1")
			require.NoError(t, err)
			assert.Equal(t, 7, got.Value.Count)
		})
	}
}

// closedURL returns a URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestSecretsNeverLeaveInAnyText(t *testing.T) {
	query := "?api_key=s3cret-1&access_token=s3cret-2&X-Amz-Signature=s3cret-3&tenant_pin=s3cret-4&assignee=ann&sort_key=name"
	var hooked []string
	hooks := occ.Hooks{
		OnRetry: func(_ context.Context, r occ.Retry) {
			if r.Err != nil {
				hooked = append(hooked, r.Err.Error())
			}
		},
	}
	c, err := occ.New(occ.WithTransientRetries(1, noWait), occ.WithHooks(hooks), occ.WithRedactedParams("tenant_pin"))
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, closedURL(t)+"/items/1"+query)
	require.Error(t, err)
	var ue interface{ Timeout() bool }
	assert.True(t, errors.As(err, &ue), "the transport error stays reachable")
	require.NotEmpty(t, hooked, "the refused connection was retried")
	for _, text := range append(hooked, err.Error()) {
		assert.NotContains(t, text, "s3cret")
		assert.Contains(t, text, "assignee=ann", "ordinary parameters stay readable")
		assert.Contains(t, text, "sort_key=name")
	}
}
