package main

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// newServer starts a test server closed at the end of the test.
func newServer(t *testing.T, opts ...occtest.Option) *occtest.Server {
	t.Helper()
	srv := occtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func TestPatch(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/orders/1", []byte(`{"status":"new","tags":["a"],"total":12.50000000000000001,"meta":{"owner":"ann"}}`)))
	var once sync.Once
	srv.BeforeWrite(func(*http.Request) {
		once.Do(func() {
			_ = srv.Update("/orders/1", func(doc map[string]any) { doc["note"] = "rush" })
		})
	})

	code, stdout, stderr := runArgs(t, "patch", "-url", srv.URL+"/orders/1",
		"-set", `/status="paid"`, "-set", "/tags/-=\"b\"", "-set", "/meta/owner=\"bob\"",
		"-set", "/meta/a~1b/deep=true", "-header", "X-Tenant: t1")
	require.Equal(t, exitOK, code, stderr)

	doc, _, _ := srv.Get("/orders/1")
	want := `{"status":"paid","tags":["a","b"],"total":12.5,"note":"rush","meta":{"owner":"bob","a/b":{"deep":true}}}`
	assert.JSONEq(t, want, string(doc))
	assert.Contains(t, stdout, `"note":"rush"`)
	assert.Contains(t, stdout, "writes 2, conflicts 1")
	for _, r := range srv.Requests() {
		assert.Equal(t, "t1", r.Header.Get("X-Tenant"))
	}
}

func TestPatchVersionField(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithoutETags(), occtest.WithVersionField("/metadata/resourceVersion"))
	require.NoError(t, srv.Set("/deployments/web", []byte(`{"metadata":{},"spec":{"replicas":1},"cost":12.50000000000000001}`)))

	code, stdout, stderr := runArgs(t, "patch", "-url", srv.URL+"/deployments/web",
		"-set", "/spec/replicas=3", "-version-field", "/metadata/resourceVersion")
	require.Equal(t, exitOK, code, stderr)
	doc, _, _ := srv.Get("/deployments/web")
	assert.JSONEq(t, `{"metadata":{"resourceVersion":2},"spec":{"replicas":3},"cost":12.5}`, string(doc))
	assert.Contains(t, string(doc), "12.50000000000000001", "numbers keep their precision")
	assert.Contains(t, stdout, "writes 1, conflicts 0")
}

func TestPatchFailures(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithTransitions("/status", map[string][]string{"new": {"paid"}}))
	require.NoError(t, srv.Set("/orders/1", []byte(`{"status":"shipped","tags":[]}`)))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"state conflict", []string{"-url", srv.URL + "/orders/1", "-set", `/status="new"`}, "kind state"},
		{"missing", []string{"-url", srv.URL + "/orders/2", "-set", "/a=1"}, "404"},
		{"index out of range", []string{"-url", srv.URL + "/orders/1", "-set", "/tags/3=1"}, "out of range"},
		{"inside a string", []string{"-url", srv.URL + "/orders/1", "-set", "/status/x=1"}, "cannot set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArgs(t, append([]string{"patch"}, tt.args...)...)
			assert.Equal(t, exitFail, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "occ patch:")
			assert.Contains(t, stderr, tt.want)
		})
	}
	doc, _, _ := srv.Get("/orders/1")
	assert.JSONEq(t, `{"status":"shipped","tags":[]}`, string(doc), "nothing written")
}

func TestApplyMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc, want string
		sets      []string
	}{
		{`{}`, `{"a":{"b":[1]}}`, []string{"/a/b/-=1"}},
		{`{"a":[1,2]}`, `{"a":[1,{"x":null}]}`, []string{"/a/1={\"x\":null}"}},
		{`{"~":0}`, `{"~":1,"":2}`, []string{"/~0=1", "/=2"}},
		{`{"a":[{}]}`, `{"a":[{"b":1}]}`, []string{"/a/0/b=1"}},
		{`{"a":[0]}`, "", []string{"/a/0/b=1"}},
		{`{"a":[0]}`, "", []string{"/a/01=1"}},
		{`{"a":[0]}`, "", []string{"/a/-1=1"}},
		{`[]`, `[1]`, []string{"/-=1"}},
		{`"s"`, "", []string{"/a=1"}},
	}
	for _, tt := range tests {
		var sets []member
		for _, s := range tt.sets {
			m, err := parseMember(s)
			require.NoError(t, err, s)
			sets = append(sets, m)
		}
		got, err := applyMembers([]byte(tt.doc), sets)
		if tt.want == "" {
			assert.Error(t, err, tt.sets)
			continue
		}
		require.NoError(t, err, tt.sets)
		assert.JSONEq(t, tt.want, string(got), tt.sets)
	}
}

// TestPatchArgs checks that patch takes its URL as probe does, and that
// flag values occ refuses are usage errors (exit 2), found before any
// request.
func TestPatchArgs(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/d", []byte(`{"n":1}`)))
	code, stdout, stderr := runArgs(t, "patch", srv.URL+"/d", "-set", "/n=2")
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, `{"n":2}`)
	for _, args := range [][]string{
		{"patch", srv.URL + "/d", "-set", "/n=3", "-version-field", "v"},
		{"patch", srv.URL + "/d", "-set", "/n=3", "-header", "Bad Name: x"},
		{"patch", srv.URL + "/d", srv.URL + "/e", "-set", "/n=3"},
		{"patch", "-set", "/n=3"},
	} {
		code, _, stderr := runArgs(t, args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, stderr, "usage: occ patch", args)
	}
	doc, _, _ := srv.Get("/d")
	assert.JSONEq(t, `{"n":2}`, string(doc), "no usage error sent a write")
}

// TestPatchExactNumbers checks that a -set number keeps its text.
func TestPatchExactNumbers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/d", []byte(`{"n":1}`)))
	code, stdout, stderr := runArgs(t, "patch", srv.URL+"/d", "-set", "/id=12345678901234567890", "-set", "/x=[1.50]")
	require.Equal(t, exitOK, code, stdout+stderr)
	doc, _, _ := srv.Get("/d")
	assert.Contains(t, string(doc), `"id":12345678901234567890`)
	assert.Contains(t, string(doc), `[1.50]`)
}
