package occtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestPost(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithLastModified(true), occtest.WithVersionField("/version"))
	resp, body := send(t, srv, "POST", "/orders", `{"item":"tea"}`)
	require.Equal(t, 201, resp.StatusCode, body)
	assert.Equal(t, "/orders/1", resp.Header.Get("Location"))
	assert.Equal(t, `"1"`, resp.Header.Get("ETag"))
	assert.Equal(t, "Thu, 01 Jan 2026 00:00:01 GMT", resp.Header.Get("Last-Modified"))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, map[string]any{"item": "tea", "version": 1.0}, docOf(t, body))

	resp, _ = send(t, srv, "POST", "/orders/", `{"item":"milk"}`)
	assert.Equal(t, "/orders/2", resp.Header.Get("Location"), "a trailing slash names the same collection")
	resp, body = send(t, srv, "POST", "/orders", `[]`)
	assert.Equal(t, 400, resp.StatusCode, body)
	resp, _ = send(t, srv, "GET", "/orders/2", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, srv.Writes())
}

func TestUnique(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithUnique("/email"), occtest.WithUnique("/profile/handle"))
	require.NoError(t, srv.Set("/users/1", []byte(`{"email":"a@x","profile":{"handle":"a"}}`)))
	tests := []struct {
		name, method, path, body string
		status                   int
		pointer                  string
	}{
		{"duplicate email on POST", "POST", "/users", `{"email":"a@x"}`, 409, "/email"},
		{"duplicate nested handle on PUT", "PUT", "/users/2", `{"email":"b@x","profile":{"handle":"a"}}`, 409, "/profile/handle"},
		{"rewriting itself is fine", "PUT", "/users/1", `{"email":"a@x","profile":{"handle":"a"}}`, 200, ""},
		{"another collection is fine", "POST", "/admins", `{"email":"a@x"}`, 201, ""},
		{"a missing value is not checked", "POST", "/users", `{"name":"c"}`, 201, ""},
		{"a distinct value is fine", "PUT", "/users/9", `{"email":"c@x"}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, srv, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.status != 409 {
				return
			}
			p := problemOf(t, resp, body)
			assert.Equal(t, "duplicate", p["code"])
			field := map[string]string{"/email": "email", "/profile/handle": "handle"}[tt.pointer]
			assert.Equal(t, "a resource with this "+field+" already exists", p["detail"])
			assert.Equal(t, "/users/1", p["existing"])
			errs, ok := p["errors"].([]any)
			require.True(t, ok, body)
			require.Len(t, errs, 1)
			assert.Equal(t, tt.pointer, errs[0].(map[string]any)["pointer"])
		})
	}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{"new": {"paid", "cancelled"}, "paid": {"shipped", "cancelled"}}
	tests := []struct {
		name, from, to string
		status         int
	}{
		{"allowed", "new", "paid", 200},
		{"allowed from paid", "paid", "shipped", 200},
		{"unchanged state", "shipped", "shipped", 200},
		{"not allowed", "new", "shipped", 409},
		{"final state", "shipped", "cancelled", 409},
		{"unknown state is final", "lost", "new", 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, occtest.WithTransitions("/status", allowed))
			require.NoError(t, srv.Set("/orders/1", []byte(`{"status":"`+tt.from+`","n":1}`)))
			resp, body := send(t, srv, "PUT", "/orders/1", `{"status":"`+tt.to+`","n":2}`)
			require.Equal(t, tt.status, resp.StatusCode, body)
			doc, _, _ := srv.Get("/orders/1")
			if tt.status == 200 {
				assert.Equal(t, tt.to, docOf(t, string(doc))["status"])
				return
			}
			p := problemOf(t, resp, body)
			assert.Equal(t, "invalid_state", p["code"])
			assert.Equal(t, "cannot transition from "+tt.from+" to "+tt.to, p["detail"])
			assert.Equal(t, tt.from, docOf(t, string(doc))["status"])
		})
	}
	srv := newServer(t, occtest.WithTransitions("/status", allowed))
	resp, body := send(t, srv, "PUT", "/orders/2", `{"status":"shipped"}`)
	assert.Equal(t, 201, resp.StatusCode, "creating is not a transition: %s", body)
	allowed["shipped"] = []string{"new"}
	resp, body = send(t, srv, "PUT", "/orders/2", `{"status":"new"}`)
	assert.Equal(t, 409, resp.StatusCode, "the option copies its map: %s", body)
}

func TestPatch(t *testing.T) {
	t.Parallel()
	merge := []string{"Content-Type", "application/merge-patch+json"}
	jsonPatch := []string{"Content-Type", "application/json-patch+json; charset=utf-8"}
	tests := []struct {
		name, body string
		hdr        []string
		status     int
		code       string
		want       string // document afterwards
	}{
		{"merge patch", `{"a":null,"b":{"c":3},"d":4}`, merge, 200, "", `{"b":{"c":3,"x":1},"d":4}`},
		{"merge patch with If-Match", `{"d":4}`, append([]string{"If-Match", `"1"`}, merge...), 200, "", `{"a":1,"b":{"c":2,"x":1},"d":4}`},
		{"stale If-Match", `{"d":4}`, append([]string{"If-Match", `"0"`}, merge...), 412, "version_conflict", ""},
		{"JSON Patch", `[{"op":"remove","path":"/a"},{"op":"add","path":"/b/c","value":9}]`, jsonPatch, 200, "", `{"b":{"c":9,"x":1}}`},
		{"JSON Patch test passes", `[{"op":"test","path":"/a","value":1},{"op":"replace","path":"/a","value":2}]`, jsonPatch, 200, "", `{"a":2,"b":{"c":2,"x":1}}`},
		{"JSON Patch test fails atomically", `[{"op":"replace","path":"/a","value":2},{"op":"test","path":"/b/c","value":7}]`, jsonPatch, 409, "version_conflict", ""},
		{"JSON Patch on a missing member", `[{"op":"remove","path":"/zzz"}]`, jsonPatch, 422, "invalid_patch", ""},
		{"JSON Patch replacing the whole document", `[{"op":"replace","path":"","value":[1]}]`, jsonPatch, 422, "invalid_patch", ""},
		{"invalid JSON Patch", `{"op":"add"}`, jsonPatch, 400, "invalid_request", ""},
		{"invalid merge patch", `{"a":`, merge, 400, "invalid_request", ""},
		{"merge patch that is not an object", `[1]`, merge, 400, "invalid_request", ""},
		{"plain JSON", `{"d":4}`, []string{"Content-Type", "application/json"}, 415, "unsupported_media_type", ""},
		{"no content type", `{"d":4}`, nil, 415, "unsupported_media_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			const initial = `{"a":1,"b":{"c":2,"x":1}}`
			require.NoError(t, srv.Set("/r", []byte(initial)))
			resp, body := send(t, srv, "PATCH", "/r", tt.body, tt.hdr...)
			require.Equal(t, tt.status, resp.StatusCode, body)
			doc, _, _ := srv.Get("/r")
			if tt.code != "" {
				assert.Equal(t, tt.code, problemOf(t, resp, body)["code"])
				assert.JSONEq(t, initial, string(doc), "a failed patch changes nothing")
				assert.Zero(t, srv.Writes())
				if tt.status == 415 {
					assert.Contains(t, resp.Header.Get("Accept-Patch"), "application/merge-patch+json")
				}
				return
			}
			assert.JSONEq(t, tt.want, string(doc))
			assert.JSONEq(t, tt.want, body)
			assert.Equal(t, `"2"`, resp.Header.Get("ETag"))
			assert.Equal(t, 1, srv.Writes())
		})
	}
}

func TestJSONPatchCopyIsBounded(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/r", []byte(`{"a":"`+strings.Repeat("x", 100_000)+`"}`)))
	ops := make([]string, 50) // 50 copies of 100 kB: 5 MB, over the 4 MiB bound
	for i := range ops {
		ops[i] = fmt.Sprintf(`{"op":"copy","from":"/a","path":"/b%d"}`, i)
	}
	resp, body := send(t, srv, "PATCH", "/r", "["+strings.Join(ops, ",")+"]", "Content-Type", "application/json-patch+json")
	require.Equal(t, 422, resp.StatusCode, body)
	assert.Equal(t, "invalid_patch", problemOf(t, resp, body)["code"])

	resp, body = send(t, srv, "PATCH", "/r", "["+strings.Join(ops[:5], ",")+"]", "Content-Type", "application/json-patch+json")
	assert.Equal(t, 200, resp.StatusCode, "small copies are fine: %.200s", body)
}
