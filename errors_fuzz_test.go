package occ

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzLimit is the body limit the fuzz target parses with, small so that
// truncation is exercised.
const fuzzLimit = 4 << 10

// FuzzParseConflict feeds arbitrary statuses, content types and bodies to
// the parser. It is seeded with every testdata/errors file.
func FuzzParseConflict(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.http"))
	require.NoError(f, err)
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		require.NoError(f, err)
		body, err := io.ReadAll(resp.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) { // a HEAD answer announces a body it has not
			require.NoError(f, err)
		}
		f.Add(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		status = []int{409, 412, 428, 422}[uint(status)%4]
		resp := &http.Response{
			StatusCode: status,
			Header:     http.Header{"Content-Type": {contentType}, "Etag": {string(body[:min(len(body), 8)])}},
			Body:       io.NopCloser(bytes.NewReader(body)),
			Request:    &http.Request{Method: "PUT", Header: http.Header{"If-None-Match": {"*"}}},
		}
		ce := parseConflict(resp, &errorSettings{maxBody: fuzzLimit})
		if status == 422 {
			require.Nil(t, ce)
			return
		}
		require.NotNil(t, ce)
		checkSane(t, ce, fuzzLimit)
	})
}

// checkSane asserts the invariants every parsed error keeps.
func checkSane(t *testing.T, ce *ConflictError, limit int) {
	t.Helper()
	require.LessOrEqual(t, len(ce.Body), limit)
	for _, s := range append([]string{ce.Code, ce.Message, ce.Suggestion, ce.CurrentVersion, ce.RequestID,
		ce.DocumentationURL}, ce.Fields...) {
		require.True(t, utf8.ValidString(s), "invalid UTF-8 in %q", s)
		require.NotContains(t, s, "\n")
		require.LessOrEqual(t, len(s), maxMessage)
	}
	require.LessOrEqual(t, len(ce.Fields), maxFields)
	require.GreaterOrEqual(t, ce.RetryAfter, time.Duration(0))
	require.Contains(t, []Kind{KindUnknown, KindVersion, KindDuplicate, KindState, KindBusy,
		KindPreconditionRequired}, ce.Kind)
	_ = ce.Error()
}

// lazyBody yields prefix, then filler bytes up to size in total, without
// ever holding them; it counts what was read and whether it was closed.
type lazyBody struct {
	prefix string
	size   int64
	read   int64
	closed bool
}

func (b *lazyBody) Read(p []byte) (int, error) {
	if b.read >= b.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.size-b.read))
	for i := range n {
		if off := b.read + int64(i); off < int64(len(b.prefix)) {
			p[i] = b.prefix[off]
		} else {
			p[i] = 'a'
		}
	}
	b.read += int64(n)
	return n, nil
}

func (b *lazyBody) Close() error { b.closed = true; return nil }

func TestParseConflictGigabyteBody(t *testing.T) {
	// Not parallel: it measures allocation.
	body := &lazyBody{prefix: `{"error":"conflict","message":"`, size: 1 << 30}
	resp := &http.Response{StatusCode: 409, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ce := parseConflict(resp, nil)
	runtime.ReadMemStats(&after)
	require.NotNil(t, ce)
	assert.Len(t, ce.Body, defaultMaxErrorBody)
	assert.True(t, ce.BodyTruncated)
	assert.True(t, body.closed)
	assert.LessOrEqual(t, body.read, int64(defaultMaxErrorBody+maxDrain+64<<10), "bytes read")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated")
	checkSane(t, ce, defaultMaxErrorBody)
}

// failingBody returns data, then an error.
type failingBody struct{ r io.Reader }

func (b failingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

func (failingBody) Close() error { return nil }

func TestParseConflictHostileBodies(t *testing.T) {
	t.Parallel()
	deepArray := strings.Repeat("[", 100_000)
	deepObject := strings.Repeat(`{"a":`, 100_000)
	deepXML := "<Error><Code>x</Code>" + strings.Repeat("<a>", 100_000)
	tests := []struct {
		name, contentType, body string
		message, code           string
	}{
		{"deep array", "application/json", deepArray, deepArray[:maxMessage-len("…")] + "…", ""},
		{"deep object", "application/problem+json", deepObject, "", ""},
		{"deep xml", "application/xml", deepXML, "", "x"},
		{"invalid utf-8", "application/json", "{\"error\":\"conflict\",\"message\":\"bad \xff\xfe bytes\\nnext\\u001b[31m line\"}",
			"bad \uFFFD\uFFFD bytes next [31m line", "conflict"},
		{"invalid utf-8 text", "text/plain", "caf\xc3 locked\r\nsecond", "caf\uFFFD locked", ""},
		{"huge numbers", "application/json",
			`{"error":{"code":1e999999,"status":"ABORTED","message":"x"},"current_version":123456789012345678901234567890}`,
			"x", "ABORTED"},
		{"huge k8s numbers", "application/json",
			`{"kind":"Status","code":99999999999999999999999,"reason":"Conflict","message":"m","details":{"retryAfterSeconds":1e400}}`,
			"m", "Conflict"},
		{"huge problem status", "application/problem+json", `{"title":"t","status":1e309}`, "t", ""},
		{"problem+json holding xml", "application/problem+json", `<problem><title>t</title><detail>d</detail></problem>`, "d", ""},
		{"xml holding json", "application/xml", `{"message":"m","code":"c"}`, "m", "c"},
		{"html holding json", "text/html", `{"message":"m"}`, "m", ""},
		{"binary", "image/png", "\x89PNG\r\n\x1a\n\x00\x00", "\uFFFDPNG", ""},
		{"json scalar", "application/json", `"just a string"`, `"just a string"`, ""},
		{"json null", "application/json", `null`, "null", ""},
		{"log injection", "text/plain", "ok\u2028INFO forged\x00line", "ok INFO forged line", ""},
		{"unterminated html", "text/html", "<title>T<p>para", "para", ""},
		{"tags only html", "text/html", "<div>Locked <b>by</b> a job</div><script>x()</script>", "Locked by a job", ""},
		{"bad charset xml", "application/xml", `<?xml version="1.0" encoding="x-unknown"?><Error><Code>c</Code><Message>m</Message></Error>`, "m", "c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: 409, Header: http.Header{"Content-Type": {tc.contentType}},
				Body: io.NopCloser(strings.NewReader(tc.body))}
			ce := parseConflict(resp, &errorSettings{maxBody: 1 << 20})
			require.NotNil(t, ce)
			checkSane(t, ce, 1<<20)
			if tc.message != "" {
				assert.Equal(t, tc.message, ce.Message)
			}
			assert.Equal(t, tc.code, ce.Code)
		})
	}
}

func TestParseConflictReadError(t *testing.T) {
	t.Parallel()
	resp := &http.Response{StatusCode: 409, Header: http.Header{"Content-Type": {"text/plain"}},
		Body: failingBody{r: strings.NewReader("resource locked")}}
	ce := parseConflict(resp, nil)
	require.NotNil(t, ce)
	assert.Equal(t, "resource locked", string(ce.Body))
	assert.Equal(t, KindBusy, ce.Kind)
}
