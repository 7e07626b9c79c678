package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startServe runs serve with args in the background until the test ends,
// and returns its base URL and a function that stops it and returns its
// error, stdout and stderr.
func startServe(t *testing.T, args ...string) (string, func() (string, string, error)) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg, code, ok := parseServe(append([]string{"-addr", "127.0.0.1:0"}, args...), &stderr)
	require.True(t, ok, "exit %d: %s", code, stderr.String())
	ctx, cancel := context.WithCancel(context.Background())
	urls, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, cfg, &stdout, &stderr, func(u string) { urls <- u }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	stop := func() (string, string, error) {
		cancel()
		err := <-done
		return stdout.String(), stderr.String(), err
	}
	t.Cleanup(func() { cancel() })
	return url, stop
}

// do sends one request and returns the answer with its body read.
func do(t *testing.T, hc *http.Client, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

func TestServe(t *testing.T) {
	t.Parallel()
	url, stop := startServe(t, "-seed", `/items/1={"n":1}`, "-unique", "/email")
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()

	resp, body := do(t, hc, http.MethodGet, url+"/items/1", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"n":1}`, body)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp, body = do(t, hc, http.MethodPut, url+"/items/1", `{"n":2}`, "If-Match", etag, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.NotEqual(t, etag, resp.Header.Get("ETag"))

	resp, _ = do(t, hc, http.MethodPut, url+"/items/1", `{"n":3}`, "If-Match", etag, "Content-Type", "application/json")
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)

	do(t, hc, http.MethodPut, url+"/users/a", `{"email":"a@x"}`, "Content-Type", "application/json")
	resp, _ = do(t, hc, http.MethodPut, url+"/users/b", `{"email":"a@x"}`, "Content-Type", "application/json")
	assert.Equal(t, http.StatusConflict, resp.StatusCode)

	hc.CloseIdleConnections()
	stdout, stderr, err := stop()
	require.NoError(t, err)
	assert.Contains(t, stdout, "occtest serving on "+url)
	for _, line := range []string{"GET /items/1 200", "PUT /items/1 200", "PUT /items/1 412", "PUT /users/b 409", "shutting down"} {
		assert.Contains(t, stderr, line)
	}
}

func TestServeOptions(t *testing.T) {
	t.Parallel()
	url, stop := startServe(t, "-no-etags", "-last-modified", "-version-field", "/version",
		"-require-conditional", "-seed", `/a={"x":1}`)
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()

	resp, body := do(t, hc, http.MethodGet, url+"/a", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"x":1,"version":1}`, body)
	assert.Empty(t, resp.Header.Get("ETag"))
	assert.NotEmpty(t, resp.Header.Get("Last-Modified"))

	resp, _ = do(t, hc, http.MethodPut, url+"/a", `{"x":2}`, "Content-Type", "application/json")
	assert.Equal(t, http.StatusPreconditionRequired, resp.StatusCode)

	hc.CloseIdleConnections()
	_, _, err := stop()
	require.NoError(t, err)
}

func TestServeWeakETags(t *testing.T) {
	t.Parallel()
	url, stop := startServe(t, "-weak-etags", "-seed", `/a={}`)
	hc := &http.Client{Transport: &http.Transport{}}
	resp, _ := do(t, hc, http.MethodGet, url+"/a", "")
	assert.Equal(t, `W/"1"`, resp.Header.Get("ETag"))
	hc.CloseIdleConnections()
	_, _, err := stop()
	require.NoError(t, err)
}

func TestServeListenError(t *testing.T) {
	t.Parallel()
	url, stop := startServe(t)
	var stderr bytes.Buffer
	addr := strings.TrimPrefix(url, "http://")
	code := runServe(context.Background(), []string{"-addr", addr}, io.Discard, &stderr)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr.String(), "occ serve:")
	_, _, err := stop()
	require.NoError(t, err)
}

func TestLogRequests(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := log.New(&buf, "", 0)
	h := logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/reset":
			panic(http.ErrAbortHandler)
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		}
	}), logger)
	for _, path := range []string{"/ok", "/teapot"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/reset", nil))
	})
	assert.Equal(t, "GET /ok 200\nGET /teapot 418\nPUT /reset reset\n", buf.String())
}
