package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cmdMarker = "s3cr3t"

// assertSafeOutput asserts that out holds no secret marker and no control
// or format character but line ends and tabs.
func assertSafeOutput(t *testing.T, out string) {
	t.Helper()
	assert.NotContains(t, out, cmdMarker)
	for _, r := range out {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			assert.Failf(t, "an unsafe character reached the output", "%U in %q", r, out)
			return
		}
	}
}

// TestSecurityProbePrintsURLRedacted: probe prints its URL without user
// info and with secret query values redacted.
func TestSecurityProbePrintsURLRedacted(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	u := strings.Replace(srv.URL, "http://", "http://ann:"+cmdMarker+"-pw@", 1) + "/scratch?private_token=" + cmdMarker + "-q&subscription-key=" + cmdMarker + "-k"
	code, stdout, stderr := runArgs(t, "probe", "-header", "Authorization: Bearer "+cmdMarker+"-authz", u)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "probe "+srv.URL+"/scratch?private_token=REDACTED&subscription-key=REDACTED")
	assertSafeOutput(t, stdout+stderr)
}

// TestSecurityHeaderFlagNotEchoed: a -header without a colon, which may be
// a bare token, is not repeated in the usage error.
func TestSecurityHeaderFlagNotEchoed(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{{"probe", "-header", "Bearer " + cmdMarker, "http://127.0.0.1:1/x"},
		{"patch", "-url", "http://127.0.0.1:1/x", "-set", "/a=1", "-header", cmdMarker}} {
		code, stdout, stderr := runArgs(t, cmd...)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "-header number 1")
		assertSafeOutput(t, stdout+stderr)
	}
}

// TestSecurityPatchPrintsServerTextSafely: a version and a document a
// server sent with terminal escapes and bidi controls are printed escaped.
func TestSecurityPatchPrintsServerTextSafely(t *testing.T) {
	t.Parallel()
	const doc = `{"v":"\u001b[2J\u202e1\u0007","note":"\u2066` + "\u202e\u0085\U000e0041" + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, doc)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	code, stdout, stderr := runArgs(t, "patch", "-url", srv.URL+"/d", "-set", "/n=1", "-version-field", "/v")
	require.Equal(t, exitOK, code, stderr)
	assertSafeOutput(t, stdout+stderr)
	assert.Contains(t, stdout, `version "\x1b[2J\u202e1\a"`)
	assert.Contains(t, stdout, `\u202e`, "the document is printed with escapes, as the same JSON")
}

// TestSecurityServeLogsPathsEscaped: a request path with a line break,
// a terminal escape or a bidi control cannot forge or colour a log line.
func TestSecurityServeLogsPathsEscaped(t *testing.T) {
	t.Parallel()
	url, stop := startServe(t)
	host := strings.TrimPrefix(url, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	_, err = io.WriteString(conn, "GET /items/%0a2026/01/01%2000:00:00%20FORGED%1b[2J%e2%80%ae HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	_, _ = io.ReadAll(conn)
	conn.Close()
	_, stderr, err := stop()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Len(t, lines, 2, "one request line and the shutdown: %q", stderr)
	assert.Contains(t, lines[0], "GET /items/%0a2026/01/01%2000:00:00%20FORGED%1b[2J%e2%80%ae 404", "the path as sent")
	for _, line := range lines {
		assert.False(t, strings.ContainsFunc(line, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }), line)
	}
}

// TestSecurityProbeKeepsTokenHome: a probe whose scratch create is answered
// with a Location on another host sends its -header token nowhere else.
func TestSecurityProbeKeepsTokenHome(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not available here: %v", err)
	}
	var mu sync.Mutex
	stolen := 0
	evil := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		stolen++
		mu.Unlock()
	}))
	evil.Listener.Close()
	evil.Listener = ln
	evil.Start()
	defer evil.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Location", evil.URL+"/steal")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	code, stdout, stderr := runArgs(t, "probe", "-header", "Authorization: Bearer "+cmdMarker, srv.URL+"/scratch")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "another origin")
	assertSafeOutput(t, stdout+stderr)
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, stolen)
}
