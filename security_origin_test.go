package occ_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type secCounter struct {
	Count int    `json:"count"`
	V     string `json:"v"`
}

// TestSecurityLocationNeverFollowedElsewhere: a Location on another host is
// reported, never fetched, on every path that reads one after a create.
func TestSecurityLocationNeverFollowedElsewhere(t *testing.T) {
	evil, got := thief(t)
	steal := evil.URL + "/steal"
	cases := map[string]struct {
		answers []func(http.ResponseWriter, *http.Request)
		opts    []occ.CallOption
		landed  bool
	}{
		"502 then 412 with Location (default options)": {
			answers: []func(http.ResponseWriter, *http.Request){sAnswer(502, ""), sAnswer(412, `{"message":"exists"}`, "Location", steal)},
		},
		"adopt a 409 with Location": {
			answers: []func(http.ResponseWriter, *http.Request){sAnswer(409, `{"message":"already exists"}`, "Location", steal)},
			opts:    []occ.CallOption{occ.WithAdoptExisting(true)},
		},
		"201 with Location and a version field": {
			answers: []func(http.ResponseWriter, *http.Request){sAnswer(201, `{"ok":true}`, "Location", steal)},
			opts:    []occ.CallOption{occ.WithVersionField("/v")},
			landed:  true,
		},
		"POST 201 with Location": {
			answers: []func(http.ResponseWriter, *http.Request){sAnswer(201, "", "Location", steal)},
			opts:    []occ.CallOption{occ.WithCreateMethod(http.MethodPost)},
			landed:  true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(secScript(tc.answers...))
			defer srv.Close()
			c := secretClient(t, nil)
			_, err := occ.Create(context.Background(), c, srv.URL+"/items/1", secCounter{Count: 1}, tc.opts...)
			var oe *occ.OriginError
			require.ErrorAs(t, err, &oe)
			require.ErrorIs(t, err, occ.ErrOtherOrigin)
			assert.Equal(t, tc.landed, oe.Landed)
			assert.Equal(t, steal, oe.Target)
			assert.Zero(t, got.count(), "the other host got a request")
		})
	}
}

// TestSecurityLocationNeverDowngraded: an https create answered with a
// Location on http, same host, is not followed.
func TestSecurityLocationNeverDowngraded(t *testing.T) {
	plain := &hits{}
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain.mu.Lock()
		plain.reqs = append(plain.reqs, r.Clone(context.Background()))
		plain.mu.Unlock()
		doc200(w, r)
	}))
	defer plainSrv.Close()
	tlsSrv := httptest.NewTLSServer(secScript(sAnswer(201, `{"ok":true}`, "Location", plainSrv.URL+"/items/1")))
	defer tlsSrv.Close()
	c := secretClient(t, tlsSrv.Client())
	_, err := occ.Create(context.Background(), c, tlsSrv.URL+"/items/1", secCounter{Count: 1}, occ.WithVersionField("/v"))
	require.ErrorIs(t, err, occ.ErrOtherOrigin)
	assert.Zero(t, plain.count(), "a request went from https to http")
}

// TestSecuritySameOriginLocationFollowed: a Location on the caller's
// origin is still read after a create whose version is unknown.
func TestSecuritySameOriginLocationFollowed(t *testing.T) {
	s := secScript(sAnswer(201, `{"ok":true}`, "Location", "/items/7"), doc200)
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := secretClient(t, nil)
	v, err := occ.Create(context.Background(), c, srv.URL+"/items", secCounter{Count: 1}, occ.WithVersionField("/v"))
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/items/7", v.URL)
	assert.Equal(t, "1", v.Version)
}

// redirector answers GETs with a redirect to to (plus the path), and
// anything else with 500.
func redirector(to string, code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to+r.URL.Path, code)
	})
}

// TestSecurityReadRedirectNotFollowedElsewhere: by default a read does not
// follow a redirect to another host, nor from https to http; the 3xx comes
// back as a StatusError, and a Modify writes nothing.
func TestSecurityReadRedirectNotFollowedElsewhere(t *testing.T) {
	evil, got := thief(t)
	t.Run("another host", func(t *testing.T) {
		srv := httptest.NewServer(redirector(evil.URL, http.StatusFound))
		defer srv.Close()
		c := secretClient(t, nil)
		_, err := occ.Modify(context.Background(), c, srv.URL+"/items/1"+secretQueryString, func(v *secCounter) error { v.Count++; return nil })
		var se *occ.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusFound, se.StatusCode)
		assert.Zero(t, got.count())
	})
	t.Run("https to http", func(t *testing.T) {
		plain, hit := thief(t)
		_ = hit
		tlsSrv := httptest.NewTLSServer(redirector(plain.URL, http.StatusTemporaryRedirect))
		defer tlsSrv.Close()
		// Even a policy that allows everything does not take a read to http.
		hc := tlsSrv.Client()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
		c := secretClient(t, hc)
		_, err := occ.Get[secCounter](context.Background(), c, tlsSrv.URL+"/items/1")
		var se *occ.StatusError
		require.ErrorAs(t, err, &se)
		assert.Zero(t, hit.count())
	})
}

// TestSecurityReadRedirectOptInCarriesNoCredential: a caller's
// CheckRedirect may let a read cross to another host; then no header set
// through WithHeader goes with it.
func TestSecurityReadRedirectOptInCarriesNoCredential(t *testing.T) {
	evil, got := thief(t)
	srv := httptest.NewServer(redirector(evil.URL, http.StatusFound))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	var mu sync.Mutex
	var urls []string
	c := secretClient(t, hc, occ.WithHooks(occ.Hooks{OnResponse: func(_ context.Context, r occ.Response) {
		mu.Lock()
		urls = append(urls, r.URL)
		mu.Unlock()
	}}))
	v, err := occ.Get[secCounter](context.Background(), c, srv.URL+"/items/1")
	require.NoError(t, err)
	assert.Equal(t, 666, v.Value.Count)
	require.Equal(t, 1, got.count())
	for k, secret := range credentialHeaders {
		assert.NotContains(t, got.headers(), secret, k)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{evil.URL + "/items/1"}, urls, "hooks show the final URL")
}

// TestSecuritySameOriginReadRedirectFollowed: a redirect on the read's own
// origin is followed, and hooks show where the answer came from.
func TestSecuritySameOriginReadRedirectFollowed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old/1", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new/1", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new/1", doc200)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var final string
	c := secretClient(t, nil, occ.WithHooks(occ.Hooks{OnResponse: func(_ context.Context, r occ.Response) { final = r.URL }}))
	v, err := occ.Get[secCounter](context.Background(), c, srv.URL+"/old/1")
	require.NoError(t, err)
	assert.Equal(t, 1, v.Value.Count)
	assert.Equal(t, srv.URL+"/new/1", final)
}

// TestSecurityOriginErrorJSON: an OriginError's text and JSON carry no
// secret of the URLs.
func TestSecurityOriginErrorText(t *testing.T) {
	evil, _ := thief(t)
	srv := httptest.NewServer(secScript(sAnswer(201, "", "Location", "http://user:"+secretMarker+"@"+strings.TrimPrefix(evil.URL, "http://")+"/x?token="+secretMarker)))
	defer srv.Close()
	c := secretClient(t, nil)
	_, err := occ.Create(context.Background(), c, srv.URL+"/items/1"+secretQueryString, secCounter{}, occ.WithCreateMethod(http.MethodPost))
	require.ErrorIs(t, err, occ.ErrOtherOrigin)
	assert.NotContains(t, err.Error(), secretMarker)
	b, jerr := json.Marshal(err)
	require.NoError(t, jerr)
	assert.NotContains(t, string(b), secretMarker)
	var oe *occ.OriginError
	require.True(t, errors.As(err, &oe))
}

// TestSecurityRefreshRedirectNotFollowed: the read after a conflict does
// not follow a redirect to another host: the other host's document never
// becomes the base of a write, and gets no request.
func TestSecurityRefreshRedirectNotFollowed(t *testing.T) {
	evil, got := thief(t)
	s := secScript(doc200, sAnswer(http.StatusPreconditionFailed, `{"message":"stale"}`),
		func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusFound)
		})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := secretClient(t, nil, occ.WithMaxAttempts(12), occ.WithBackoff(occ.BackoffFunc(func(int) time.Duration { return 0 })))
	_, err := occ.Modify(context.Background(), c, srv.URL+"/items/1", func(v *secCounter) error { v.Count++; return nil })
	var se *occ.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusFound, se.StatusCode)
	assert.Zero(t, got.count())
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Len(t, s.got, 3, "read, write, refresh: no write on another host's document")
}

// TestSecurityDialectCannotSendElsewhere: a write a Dialect's Encode moved
// to another origin is refused before it is sent.
func TestSecurityDialectCannotSendElsewhere(t *testing.T) {
	evil, got := thief(t)
	srv := httptest.NewServer(secScript(doc200))
	defer srv.Close()
	c := secretClient(t, nil)
	d := occ.Dialect{Encode: func(w *occ.WriteRequest) error {
		w.URL = evil.URL + "/items/1"
		w.Header.Set("If-Match", w.Version)
		return nil
	}}
	_, err := occ.Modify(context.Background(), c, srv.URL+"/items/1", func(v *secCounter) error { v.Count++; return nil }, occ.WithDialect(d))
	require.ErrorIs(t, err, occ.ErrOtherOrigin)
	assert.Zero(t, got.count())
}
