package occtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// step is one request of a scenario against a single store, with the
// answer expected.
type step struct {
	name     string
	method   string
	path     string
	body     string
	hdr      []string
	status   int
	etag     string // expected ETag header, if not ""
	code     string // expected problem code, if not ""
	wantBody string // expected JSON body, if not ""
}

// runSteps runs steps in order; each depends on the state the previous left.
func runSteps(t *testing.T, srv *occtest.Server, steps []step) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, body := send(t, srv, st.method, st.path, st.body, st.hdr...)
			require.Equal(t, st.status, resp.StatusCode, body)
			if st.etag != "" {
				assert.Equal(t, st.etag, resp.Header.Get("ETag"))
			}
			if st.code != "" {
				assert.Equal(t, st.code, problemOf(t, resp, body)["code"])
			}
			if st.wantBody != "" {
				assert.JSONEq(t, st.wantBody, body)
			}
		})
	}
}

func TestGetPutIfMatch(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	runSteps(t, srv, []step{
		{name: "GET missing is 404", method: "GET", path: "/a", status: 404, code: "not_found"},
		{name: "PUT creates", method: "PUT", path: "/a", body: `{"n":1}`, status: 201, etag: `"1"`, wantBody: `{"n":1}`},
		{name: "GET reads", method: "GET", path: "/a", status: 200, etag: `"1"`, wantBody: `{"n":1}`},
		{name: "HEAD has no body", method: "HEAD", path: "/a", status: 200, etag: `"1"`},
		{name: "PUT If-Match current", method: "PUT", path: "/a", body: `{"n":2}`, hdr: []string{"If-Match", `"1"`}, status: 200, etag: `"2"`, wantBody: `{"n":2}`},
		{name: "PUT If-Match stale is 412", method: "PUT", path: "/a", body: `{"n":3}`, hdr: []string{"If-Match", `"1"`}, status: 412, code: "version_conflict"},
		{name: "stale write left the doc alone", method: "GET", path: "/a", status: 200, etag: `"2"`, wantBody: `{"n":2}`},
		{name: "If-Match list with current", method: "PUT", path: "/a", body: `{"n":3}`, hdr: []string{"If-Match", `"7", "2"`}, status: 200, etag: `"3"`},
		{name: "If-Match weak tag never matches strongly", method: "PUT", path: "/a", body: `{"n":4}`, hdr: []string{"If-Match", `W/"3"`}, status: 412},
		{name: "If-Match star on existing", method: "PUT", path: "/a", body: `{"n":4}`, hdr: []string{"If-Match", "*"}, status: 200, etag: `"4"`},
		{name: "If-Match star on absent is 412", method: "PUT", path: "/b", body: `{}`, hdr: []string{"If-Match", "*"}, status: 412},
		{name: "If-Match on absent is 412", method: "PUT", path: "/b", body: `{}`, hdr: []string{"If-Match", `"1"`}, status: 412},
		{name: "If-None-Match current is 304", method: "GET", path: "/a", hdr: []string{"If-None-Match", `"4"`}, status: 304, etag: `"4"`},
		{name: "If-None-Match compares weakly", method: "GET", path: "/a", hdr: []string{"If-None-Match", `W/"4"`}, status: 304},
		{name: "If-None-Match star is 304", method: "GET", path: "/a", hdr: []string{"If-None-Match", "*"}, status: 304},
		{name: "If-None-Match stale is 200", method: "GET", path: "/a", hdr: []string{"If-None-Match", `"3"`}, status: 200, wantBody: `{"n":4}`},
		{name: "create-if-absent on existing is 412", method: "PUT", path: "/a", body: `{"n":9}`, hdr: []string{"If-None-Match", "*"}, status: 412, code: "already_exists"},
		{name: "create-if-absent on absent", method: "PUT", path: "/b", body: `{"n":1}`, hdr: []string{"If-None-Match", "*"}, status: 201, etag: `"1"`},
		{name: "invalid JSON is 400", method: "PUT", path: "/a", body: `{"n":`, status: 400},
		{name: "non-object is 400", method: "PUT", path: "/a", body: `[1]`, status: 400},
		{name: "trailing data is 400", method: "PUT", path: "/a", body: `{} {}`, status: 400},
		{name: "unknown method is 405", method: "OPTIONS", path: "/a", status: 405},
	})
	resp, _ := send(t, srv, "OPTIONS", "/a", "")
	assert.Contains(t, resp.Header.Get("Allow"), "PATCH")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	runSteps(t, srv, []step{
		{name: "stale If-Match is 412", method: "DELETE", path: "/a", hdr: []string{"If-Match", `"0"`}, status: 412},
		{name: "delete", method: "DELETE", path: "/a", hdr: []string{"If-Match", `"1"`}, status: 204},
		{name: "gone", method: "GET", path: "/a", status: 404},
		{name: "delete missing is 404", method: "DELETE", path: "/a", status: 404},
		{name: "PATCH missing is 404", method: "PATCH", path: "/a", body: `{}`, hdr: []string{"Content-Type", "application/merge-patch+json"}, status: 404},
		{name: "recreate never reuses a version", method: "PUT", path: "/a", body: `{}`, status: 201, etag: `"2"`},
	})
	assert.Equal(t, 2, srv.Writes())
}

func TestETagOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []occtest.Option
		ifMatch  string
		wantETag string
		status   int
	}{
		{"strong by default", nil, `"1"`, `"1"`, 200},
		{"strong store, weak If-Match", nil, `W/"1"`, `"1"`, 412},
		{"weak store, strong comparison", []occtest.Option{occtest.WithWeakETags(true)}, `W/"1"`, `W/"1"`, 412},
		{"weak store, strong tag, strong comparison", []occtest.Option{occtest.WithWeakETags(true)}, `"1"`, `W/"1"`, 412},
		{"weak store, weak comparison", []occtest.Option{occtest.WithWeakETags(true), occtest.WithWeakIfMatch(true)}, `W/"1"`, `W/"1"`, 200},
		{"weak store, weak comparison, strong tag", []occtest.Option{occtest.WithWeakETags(true), occtest.WithWeakIfMatch(true)}, `"1"`, `W/"1"`, 200},
		{"weak comparison, stale", []occtest.Option{occtest.WithWeakETags(true), occtest.WithWeakIfMatch(true)}, `W/"0"`, `W/"1"`, 412},
		{"weak then strong: last wins", []occtest.Option{occtest.WithWeakETags(true), occtest.WithWeakETags(false)}, `"1"`, `"1"`, 200},
		{"no ETags: a tag never matches", []occtest.Option{occtest.WithoutETags()}, `"1"`, "", 412},
		{"no ETags: star matches", []occtest.Option{occtest.WithoutETags()}, `*`, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.opts...)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			resp, _ := send(t, srv, "GET", "/a", "")
			assert.Equal(t, tt.wantETag, resp.Header.Get("ETag"))
			_, ok := resp.Header["Etag"]
			assert.Equal(t, tt.wantETag != "", ok)
			resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, "If-Match", tt.ifMatch)
			assert.Equal(t, tt.status, resp.StatusCode, body)
		})
	}
}

func TestLastModified(t *testing.T) {
	t.Parallel()
	first := "Thu, 01 Jan 2026 00:00:01 GMT"
	second := "Thu, 01 Jan 2026 00:00:02 GMT"
	tests := []struct {
		name   string
		opts   []occtest.Option
		hdr    []string
		status int
		lm     string
	}{
		{"served from the logical clock", []occtest.Option{occtest.WithLastModified(true)}, nil, 200, second},
		{"If-Unmodified-Since current holds", []occtest.Option{occtest.WithLastModified(true)}, []string{"If-Unmodified-Since", first}, 200, second},
		{"If-Unmodified-Since later holds", []occtest.Option{occtest.WithLastModified(true)}, []string{"If-Unmodified-Since", "Fri, 02 Jan 2026 00:00:00 GMT"}, 200, second},
		{"If-Unmodified-Since earlier fails", []occtest.Option{occtest.WithLastModified(true)}, []string{"If-Unmodified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}, 412, ""},
		{"If-Match wins over If-Unmodified-Since", []occtest.Option{occtest.WithLastModified(true)}, []string{"If-Match", `"1"`, "If-Unmodified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}, 200, second},
		{"invalid date is ignored", []occtest.Option{occtest.WithLastModified(true)}, []string{"If-Unmodified-Since", "yesterday"}, 200, second},
		{"off by default: ignored and not served", nil, []string{"If-Unmodified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.opts...)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, tt.hdr...)
			assert.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, tt.lm, resp.Header.Get("Last-Modified"))
		})
	}
}

func TestLastModifiedBackToBack(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithLastModified(true))
	require.NoError(t, srv.Set("/a", []byte(`{"n":0}`)))
	resp, _ := send(t, srv, "GET", "/a", "")
	seen := resp.Header.Get("Last-Modified")
	// A competing write in the same wall-clock second must still fail the
	// client's If-Unmodified-Since.
	require.NoError(t, srv.Update("/a", func(doc map[string]any) { doc["n"] = 1.0 }))
	resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, "If-Unmodified-Since", seen)
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, body)
}

func TestPreconditionStatusAndCurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []occtest.Option
		status      int
		contentType string
		wantBody    string
	}{
		{"412 problem by default", nil, 412, "application/problem+json", ""},
		{"409 when asked", []occtest.Option{occtest.WithPreconditionStatus(409)}, 409, "application/problem+json", ""},
		{"current representation", []occtest.Option{occtest.WithCurrentInConflict(true), occtest.WithLastModified(true)}, 412, "application/json", `{"n":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.opts...)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			require.NoError(t, srv.Set("/a", []byte(`{"n":2}`)))
			resp, body := send(t, srv, "PUT", "/a", `{"n":3}`, "If-Match", `"1"`)
			require.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			if tt.wantBody == "" {
				assert.Equal(t, "version_conflict", problemOf(t, resp, body)["code"])
				return
			}
			assert.JSONEq(t, tt.wantBody, body)
			assert.Equal(t, `"2"`, resp.Header.Get("ETag"))
			assert.Equal(t, "Thu, 01 Jan 2026 00:00:02 GMT", resp.Header.Get("Last-Modified"))
		})
	}
}

func TestRequireConditional(t *testing.T) {
	t.Parallel()
	opts := []occtest.Option{occtest.WithRequireConditional(true), occtest.WithVersionField("/version"), occtest.WithLastModified(true)}
	merge := "application/merge-patch+json"
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
	}{
		{"unconditional PUT", "PUT", "/a", `{"n":2}`, nil, 428},
		{"unconditional merge PATCH", "PATCH", "/a", `{"n":2}`, []string{"Content-Type", merge}, 428},
		{"unconditional JSON PATCH", "PATCH", "/a", `[{"op":"add","path":"/n","value":2}]`, []string{"Content-Type", "application/json-patch+json"}, 428},
		{"unconditional DELETE", "DELETE", "/a", "", nil, 428},
		{"PUT with If-Match", "PUT", "/a", `{"n":2}`, []string{"If-Match", `"1"`}, 200},
		{"PUT with If-Unmodified-Since", "PUT", "/a", `{"n":2}`, []string{"If-Unmodified-Since", "Thu, 01 Jan 2026 00:00:01 GMT"}, 200},
		{"PUT with a body version", "PUT", "/a", `{"n":2,"version":1}`, nil, 200},
		{"merge PATCH with a body version", "PATCH", "/a", `{"n":2,"version":1}`, []string{"Content-Type", merge}, 200},
		{"JSON PATCH testing the version", "PATCH", "/a", `[{"op":"test","path":"/version","value":1},{"op":"add","path":"/n","value":2}]`, []string{"Content-Type", "application/json-patch+json"}, 200},
		{"DELETE with If-Match", "DELETE", "/a", "", []string{"If-Match", `"1"`}, 204},
		{"creating PUT needs no condition", "PUT", "/new", `{"n":2}`, nil, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, opts...)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			resp, body := send(t, srv, tt.method, tt.path, tt.body, tt.hdr...)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.status == 428 {
				assert.Equal(t, "precondition_required", problemOf(t, resp, body)["code"])
				assert.Zero(t, srv.Writes())
			}
		})
	}
}
