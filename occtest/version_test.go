package occtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

var versionFieldCases = []struct {
	name    string
	opts    []occtest.Option
	initial string // document after Set (version 1)
	fresh   string // a write carrying version 1
	stale   string // a write carrying version 1 once the resource is at 2
	after   string // the document after the fresh write
}{
	{
		name:    "number at /version",
		opts:    []occtest.Option{occtest.WithVersionField("/version")},
		initial: `{"n":0,"version":1}`,
		fresh:   `{"n":1,"version":1}`,
		stale:   `{"n":9,"version":1}`,
		after:   `{"n":1,"version":2}`,
	},
	{
		name:    "string at /_rev",
		opts:    []occtest.Option{occtest.WithVersionField("/_rev"), occtest.WithVersionFieldString(true)},
		initial: `{"n":0,"_rev":"1"}`,
		fresh:   `{"n":1,"_rev":"1"}`,
		stale:   `{"n":9,"_rev":"1"}`,
		after:   `{"n":1,"_rev":"2"}`,
	},
	{
		name:    "nested Kubernetes resourceVersion",
		opts:    []occtest.Option{occtest.WithVersionField("/metadata/resourceVersion"), occtest.WithVersionFieldString(true)},
		initial: `{"n":0,"metadata":{"resourceVersion":"1"}}`,
		fresh:   `{"n":1,"metadata":{"resourceVersion":"1"}}`,
		stale:   `{"n":9,"metadata":{"resourceVersion":"1"}}`,
		after:   `{"n":1,"metadata":{"resourceVersion":"2"}}`,
	},
}

func TestVersionField(t *testing.T) {
	t.Parallel()
	for _, tt := range versionFieldCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.opts...)
			require.NoError(t, srv.Set("/a", []byte(`{"n":0}`)))
			_, body := send(t, srv, "GET", "/a", "")
			assert.JSONEq(t, tt.initial, body)

			resp, body := send(t, srv, "PUT", "/a", tt.fresh)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, tt.after, body)
			assert.Equal(t, `"2"`, resp.Header.Get("ETag"))

			resp, body = send(t, srv, "PUT", "/a", tt.stale)
			require.Equal(t, 409, resp.StatusCode, body)
			p := problemOf(t, resp, body)
			assert.Equal(t, "version_conflict", p["code"])
			assert.Equal(t, "the object has been modified; please apply your changes to the latest version and try again", p["detail"])
			doc, _, ok := srv.Get("/a")
			require.True(t, ok)
			assert.JSONEq(t, tt.after, string(doc), "a stale write must not land")
		})
	}
}

func TestVersionFieldWrites(t *testing.T) {
	t.Parallel()
	merge := []string{"Content-Type", "application/merge-patch+json"}
	jsonPatch := []string{"Content-Type", "application/json-patch+json"}
	tests := []struct {
		name, method, body string
		hdr                []string
		status             int
		code               string
	}{
		{"PUT without a version is unconditional", "PUT", `{"n":5}`, nil, 200, ""},
		{"PUT with the version as a string is accepted", "PUT", `{"n":5,"version":"2"}`, nil, 200, ""},
		{"PUT with null version is unconditional", "PUT", `{"n":5,"version":null}`, nil, 200, ""},
		{"stale merge patch", "PATCH", `{"n":5,"version":1}`, merge, 409, "version_conflict"},
		{"fresh merge patch", "PATCH", `{"n":5,"version":2}`, merge, 200, ""},
		{"stale JSON Patch test", "PATCH", `[{"op":"test","path":"/version","value":1},{"op":"replace","path":"/n","value":5}]`, jsonPatch, 409, "version_conflict"},
		{"fresh JSON Patch test", "PATCH", `[{"op":"test","path":"/version","value":2},{"op":"replace","path":"/n","value":5}]`, jsonPatch, 200, ""},
		{"a PUT cannot set the version", "PUT", `{"n":5,"version":2}`, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, occtest.WithVersionField("/version"))
			require.NoError(t, srv.Set("/a", []byte(`{"n":0}`)))
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			resp, body := send(t, srv, tt.method, "/a", tt.body, tt.hdr...)
			require.Equal(t, tt.status, resp.StatusCode, body)
			doc, _, _ := srv.Get("/a")
			if tt.code != "" {
				assert.Equal(t, tt.code, problemOf(t, resp, body)["code"])
				assert.JSONEq(t, `{"n":1,"version":2}`, string(doc))
				return
			}
			assert.JSONEq(t, `{"n":5,"version":3}`, string(doc))
			assert.JSONEq(t, string(doc), body)
		})
	}
}

func TestVersionFieldNotAnObject(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithVersionField("/metadata/resourceVersion"))
	resp, body := send(t, srv, "PUT", "/a", `{"metadata":"x"}`)
	assert.Equal(t, 400, resp.StatusCode, body)
	assert.Error(t, srv.Set("/a", []byte(`{"metadata":[1]}`)))
}

func TestVersionConflictHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithVersionField("/version"), occtest.WithCurrentInConflict(true))
	require.NoError(t, srv.Set("/a", []byte(`{}`)))
	require.NoError(t, srv.Set("/a", []byte(`{}`)))
	resp, body := send(t, srv, "PUT", "/a", `{"version":1}`)
	require.Equal(t, 409, resp.StatusCode)
	assert.Equal(t, "version_conflict", problemOf(t, resp, body)["code"])
	assert.Equal(t, `"2"`, resp.Header.Get("ETag"))
}
