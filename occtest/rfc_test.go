package occtest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

const mergeType, jsonPatchType = "application/merge-patch+json", "application/json-patch+json"

// RFC 7396 section 2: a patch value that is not an object (an array)
// replaces the target's whole, nulls inside it included; only null
// members of patch objects remove.
func TestMergePatchReplacesArraysWhole(t *testing.T) {
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"tags":["x"],"gone":1,"o":{"k":1,"j":2}}`)))
	resp, body := send(t, srv, http.MethodPatch, "/a",
		`{"tags":[null,{"n":null},"y"],"gone":null,"o":{"k":null},"new":{"a":null,"b":[null]}}`,
		"Content-Type", mergeType)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	want := `{"tags":[null,{"n":null},"y"],"o":{"j":2},"new":{"b":[null]}}`
	assert.JSONEq(t, want, body, "the answer")
	doc, _, _ := srv.Get("/a")
	assert.JSONEq(t, want, string(doc), "what the store holds")
}

// RFC 6902 section 4.6: test compares JSON values; numbers are equal when
// their values are numerically equal, objects regardless of member order.
func TestJSONPatchTestComparesValues(t *testing.T) {
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"p":1.5,"z":0,"h":100,"o":{"a":1,"b":[1.0,"s"]},"keep":1.50}`)))
	for _, tc := range []struct {
		path, value string
		equal       bool
	}{
		{"/p", `1.50`, true},
		{"/z", `-0`, true},
		{"/h", `1e2`, true},
		{"/o", `{"b":[1,"s"],"a":1.0}`, true},
		{"/p", `1.51`, false},
		{"/p", `"1.5"`, false},
		{"/o", `{"a":1,"b":[1,"s"],"c":null}`, false},
	} {
		resp, body := send(t, srv, http.MethodPatch, "/a",
			`[{"op":"test","path":"`+tc.path+`","value":`+tc.value+`},{"op":"add","path":"/seen","value":true}]`,
			"Content-Type", jsonPatchType)
		if tc.equal {
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s == %s: %s", tc.path, tc.value, body)
			assert.Contains(t, body, `"keep":1.50`, "numbers keep their text")
		} else {
			assert.Equal(t, http.StatusConflict, resp.StatusCode, "%s != %s: %s", tc.path, tc.value, body)
		}
	}
}

// RFC 9110 sections 13.1.1 and 13.1.4: a GET whose If-Match or
// If-Unmodified-Since fails is answered 412, evaluated in the order of
// section 13.2.2.
func TestConditionalGet(t *testing.T) {
	srv := newServer(t, occtest.WithLastModified(true))
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	resp, _ := send(t, srv, http.MethodGet, "/a", "")
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	require.NoError(t, srv.Set("/a", []byte(`{"n":2}`)))
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	for _, tc := range []struct {
		hdr  []string
		want int
	}{
		{[]string{"If-Match", etag}, http.StatusPreconditionFailed},
		{[]string{"If-Match", "*"}, http.StatusOK},
		{[]string{"If-Unmodified-Since", lm}, http.StatusPreconditionFailed},
		{[]string{"If-Unmodified-Since", past}, http.StatusPreconditionFailed},
		{[]string{"If-Match", "*", "If-Unmodified-Since", past}, http.StatusOK}, // If-Match wins
		{[]string{"If-None-Match", etag}, http.StatusOK},
	} {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp, body := send(t, srv, m, "/a", "", tc.hdr...)
			assert.Equal(t, tc.want, resp.StatusCode, "%s %v: %s", m, tc.hdr, body)
		}
	}
}

// RFC 8259 section 8.1: JSON text exchanged between systems must be
// UTF-8; a body that is not is refused with 400 and nothing is stored.
func TestInvalidUTF8IsRefused(t *testing.T) {
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	bad := "{\"name\":\"caf\xe9\"}"
	for _, tc := range []struct{ method, path, ctype string }{
		{http.MethodPut, "/a", "application/json"},
		{http.MethodPut, "/new", "application/json"},
		{http.MethodPost, "/c", "application/json"},
		{http.MethodPatch, "/a", mergeType},
	} {
		resp, body := send(t, srv, tc.method, tc.path, bad, "Content-Type", tc.ctype)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
	}
	doc, _, _ := srv.Get("/a")
	assert.JSONEq(t, `{"n":1}`, string(doc))
	_, _, ok := srv.Get("/new")
	assert.False(t, ok)
}

// RFC 9110 section 8.8.2.2: a Last-Modified is weak when it is less than a
// second before the answer's Date; with WithSecondClock, two writes in one
// second share a Last-Modified, and If-Unmodified-Since, compared at one
// second's resolution, passes a write over the other, as on real servers.
func TestSecondClockSharesLastModifiedWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := occtest.NewStore(occtest.WithLastModified(true), occtest.WithSecondClock(true))
		c := &http.Client{Transport: occtest.Transport(st)}
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, st.Set("/a", []byte(`{"n":1}`)))
		resp, _ := sendWith(t, c, "http://occtest", http.MethodGet, "/a", "")
		lm := resp.Header.Get("Last-Modified")
		assert.Equal(t, lm, resp.Header.Get("Date"), "weak: Date is within the second")

		time.Sleep(300 * time.Millisecond)
		require.NoError(t, st.Set("/a", []byte(`{"n":2}`))) // a competing write, same second
		resp, _ = sendWith(t, c, "http://occtest", http.MethodPut, "/a", `{"n":3}`, "If-Unmodified-Since", lm)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the same second: the precondition cannot tell")

		time.Sleep(time.Second)
		resp, _ = sendWith(t, c, "http://occtest", http.MethodPut, "/a", `{"n":4}`, "If-Unmodified-Since", lm)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "n:3 was written in the same second as lm")
		resp, _ = sendWith(t, c, "http://occtest", http.MethodPut, "/a", `{"n":5}`, "If-Unmodified-Since", lm)
		assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "a write a second later is seen")
		time.Sleep(time.Second)
		resp, _ = sendWith(t, c, "http://occtest", http.MethodGet, "/a", "")
		assert.NotEqual(t, resp.Header.Get("Last-Modified"), resp.Header.Get("Date"), "strong once a second has passed")
	})
}
