package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestProbeOcctest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	code, stdout, stderr := runArgs(t, "probe", "-header", "X-Tenant: t1", srv.URL+"/scratch")
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "(scratch document created, then deleted)")
	assert.Regexp(t, `PASS  version\s`, stdout)
	assert.Regexp(t, `PASS  stale write refused\s+refused with 412, kind version`, stdout)
	assert.Regexp(t, `PASS  duplicate create refused\s+PUT refused with 412, kind duplicate`, stdout)
	assert.Contains(t, stdout, "ok: the server refuses stale writes")
	_, _, exists := srv.Get("/scratch")
	assert.False(t, exists)
	for _, r := range srv.Requests() {
		assert.Equal(t, "t1", r.Header.Get("X-Tenant"))
	}
}

func TestProbeVersionField(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithoutETags(), occtest.WithVersionField("/v"))
	require.NoError(t, srv.Set("/d", []byte(`{"n":1}`)))
	code, stdout, stderr := runArgs(t, "probe", srv.URL+"/d")
	assert.Equal(t, exitFail, code, "without -version-field there is no version")
	assert.Regexp(t, `FAIL  version\s+the read gave no version`, stdout, stderr)

	code, stdout, stderr = runArgs(t, "probe", "-version-field", "/v", srv.URL+"/d")
	assert.Equal(t, exitOK, code, stdout+stderr)
}

// nginxLike keeps If-Match and If-None-Match no better than nginx's dav
// module: it sends ETags and ignores both.
type nginxLike struct {
	mu   sync.Mutex
	body []byte
	gen  int
}

func (n *nginxLike) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.Method == http.MethodPut {
		n.body, n.gen = body, n.gen+1
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, n.gen, len(n.body)))
	_, _ = w.Write(n.body)
}

func TestProbeIgnoredPreconditions(t *testing.T) {
	t.Parallel()
	n := &nginxLike{body: []byte("hello\n")}
	srv := httptest.NewServer(n)
	defer srv.Close()
	code, stdout, stderr := runArgs(t, "probe", srv.URL+"/f.txt")
	require.Equal(t, exitFail, code, stdout+stderr)
	assert.Regexp(t, `version "0-6", then "1-[0-9a-f]+" after a write`, stdout, "the versions as the server sent them, the new one read back")
	assert.Regexp(t, `FAIL  stale write refused\s+the server accepted a write conditioned on version`, stdout)
	assert.Regexp(t, `FAIL  duplicate create refused\s+the server accepted a PUT with If-None-Match: \*`, stdout)
	assert.Contains(t, stdout, "FAIL: do not trust this server's preconditions")
	n.mu.Lock()
	defer n.mu.Unlock()
	assert.Equal(t, "hello\n", string(n.body), "the probe lost nothing")
}

func TestProbeVersionQuery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	gen, body := 5, []byte(`{"n":1}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPut {
			if m := r.URL.Query().Get("ifGenerationMatch"); m != fmt.Sprint(gen) {
				w.WriteHeader(http.StatusPreconditionFailed)
				return
			}
			gen++
			body, _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("X-Goog-Generation", fmt.Sprint(gen))
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	code, stdout, stderr := runArgs(t, "probe", "-version-header", "X-Goog-Generation",
		"-version-query", "ifGenerationMatch", "-create-query", "0", srv.URL+"/o")
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, `version 5, then 6 after a write`)
}

func TestProbeUsage(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"probe"},
		{"probe", "a", "b"},
		{"probe", "ftp://x/y"},
		{"probe", "-create-query", "0", "http://127.0.0.1/x"},
		{"probe", "-header", "nocolon", "http://127.0.0.1/x"},
		{"probe", "-timeout", "0s", "http://127.0.0.1/x"},
		{"probe", "-nope", "http://127.0.0.1/x"},
		{"probe", "http://127.0.0.1/x", "-version-field", "v"},
		{"probe", "http://127.0.0.1/x", "-header", "Bad Name: v"},
		{"probe", "http://127.0.0.1/x", "-create-method", "PATCH"},
		{"probe", "http://127.0.0.1/x", "-cacert", "/nonexistent/ca.pem"},
		{"probe", "http://127.0.0.1/x", "-url", "http://127.0.0.1/y"},
	}
	for _, args := range tests {
		code, _, stderr := runArgs(t, args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, stderr, "usage: occ probe", args)
	}
	code, _, stderr := runArgs(t, "probe", "-h")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "-version-query")
}

// TestProbeArgs checks that probe takes its URL the way patch does: as the
// argument, before or after the flags, or as -url.
func TestProbeArgs(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithoutETags(), occtest.WithVersionField("/v"))
	require.NoError(t, srv.Set("/d", []byte(`{"n":1}`)))
	for _, args := range [][]string{
		{"probe", srv.URL + "/d", "-version-field", "/v"},
		{"probe", "-version-field", "/v", srv.URL + "/d"},
		{"probe", "-url", srv.URL + "/d", "-version-field", "/v"},
	} {
		code, stdout, stderr := runArgs(t, args...)
		assert.Equal(t, exitOK, code, "%v: %s%s", args, stdout, stderr)
		assert.Regexp(t, `PASS  version\s+version \d+, then \d+ after a write`, stdout, args)
	}
}

// TestProbeTLS probes an https server whose certificate only the -cacert
// file vouches for.
func TestProbeTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(occtest.NewStore())
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	code, stdout, stderr := runArgs(t, "probe", srv.URL+"/tls", "-cacert", ca)
	assert.Equal(t, exitOK, code, stdout+stderr)
	code, _, stderr = runArgs(t, "probe", srv.URL+"/tls")
	assert.Equal(t, exitFail, code, "without -cacert the certificate is unknown")
	assert.Contains(t, stderr, "certificate")
}
