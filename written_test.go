package occ_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type note struct {
	N     int    `json:"n"`
	Title string `json:"title,omitempty"`
}

// CouchDB answers a write with a receipt, {"ok":true,"id":..,"rev":..}: the
// result is the document, and a Put chained on it lands at once.
func TestWriteReceiptIsNotTheDocument(t *testing.T) {
	t.Parallel()
	f := &fakeCouch{id: "d", doc: map[string]any{"n": 0.0, "keep": "me"}, gen: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/_rev"))
	require.NoError(t, err)
	ctx := context.Background()
	url := srv.URL + "/db/d"

	got, err := occ.ModifyJSON(ctx, c, url, func(b []byte) ([]byte, error) {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["n"] = 1
		return json.Marshal(m)
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"_id":"d","_rev":"2-3dde","n":1,"keep":"me"}`, string(got))

	v1, err := occ.Get[note](ctx, c, url)
	require.NoError(t, err)
	var st occ.Stats
	v2, err := occ.Put(ctx, c, url, v1, note{N: 2}, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, "3-5ccd", v2.Version, "the result's version is the new revision")
	assert.JSONEq(t, `{"_id":"d","_rev":"3-5ccd","n":2,"keep":"me"}`, string(v2.Raw))

	v3, err := occ.Put(ctx, c, url, v2, note{N: 3, Title: "t"}, occ.WithStats(&st))
	require.NoError(t, err, "a Put chained on a Put's result is no conflict")
	assert.Equal(t, 0, st.Conflicts)
	assert.Equal(t, 1, st.Attempts, "one write, no conflict")
	assert.Equal(t, "4-7bbc", v3.Version)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, map[string]any{"n": 3.0, "keep": "me", "title": "t"}, f.doc)
}

// echoAPI keeps one JSON document behind an ETag, and answers a write as
// answer says.
type echoAPI struct {
	mu     sync.Mutex
	doc    []byte
	gen    int
	answer func(w http.ResponseWriter, stored []byte, etag string)
	gets   int
}

func (e *echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	defer e.mu.Unlock()
	etag := `"` + strconv.Itoa(e.gen) + `"`
	switch {
	case r.Method == http.MethodGet:
		e.gets++
		w.Header().Set("ETag", etag)
		_, _ = w.Write(e.doc)
	case r.Header.Get("If-Match") != etag:
		w.WriteHeader(http.StatusPreconditionFailed)
	default:
		e.doc, e.gen = body, e.gen+1
		e.answer(w, body, `"`+strconv.Itoa(e.gen)+`"`)
	}
}

func TestWrittenAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter, stored []byte, etag string)
		want    string
		version string
		gets    int
	}{
		{"the document with a member the server added",
			func(w http.ResponseWriter, stored []byte, etag string) {
				var m map[string]any
				_ = json.Unmarshal(stored, &m)
				m["updatedAt"] = "now"
				w.Header().Set("ETag", etag)
				_ = json.NewEncoder(w).Encode(m)
			}, `{"n":2,"x":"y","updatedAt":"now"}`, `"2"`, 1},
		{"a receipt: what was sent, with the answer's ETag",
			func(w http.ResponseWriter, _ []byte, etag string) {
				w.Header().Set("ETag", etag)
				_, _ = io.WriteString(w, `{"ok":true,"status":"accepted"}`)
			}, `{"n":2,"x":"y"}`, `"2"`, 1},
		{"a body its Content-Location says is the resource",
			func(w http.ResponseWriter, _ []byte, etag string) {
				w.Header().Set("ETag", etag)
				w.Header().Set("Content-Location", "/doc")
				_, _ = io.WriteString(w, `{"n":2,"normalised":true}`)
			}, `{"n":2,"normalised":true}`, `"2"`, 1},
		{"no content: what was sent",
			func(w http.ResponseWriter, _ []byte, etag string) {
				w.Header().Set("ETag", etag)
				w.WriteHeader(http.StatusNoContent)
			}, `{"n":2,"x":"y"}`, `"2"`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &echoAPI{doc: []byte(`{"n":1,"x":"y"}`), gen: 1, answer: tc.answer}
			srv := httptest.NewServer(e)
			defer srv.Close()
			c, err := occ.New(occ.WithHTTPClient(srv.Client()))
			require.NoError(t, err)
			v0, err := occ.GetJSON(context.Background(), c, srv.URL+"/doc")
			require.NoError(t, err)
			got, err := occ.PutJSON(context.Background(), c, srv.URL+"/doc", v0, json.RawMessage(`{"n":2,"x":"y"}`))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got.Raw))
			assert.Equal(t, tc.version, got.Version)
			e.mu.Lock()
			defer e.mu.Unlock()
			assert.Equal(t, tc.gets, e.gets, "reads")
		})
	}
}

// A version field whose new value the write's answer does not give is
// learnt by reading again, never left stale in the result.
func TestWrittenVersionFieldUnknownReadsAgain(t *testing.T) {
	t.Parallel()
	e := &echoAPI{doc: []byte(`{"n":1,"v":1}`), gen: 1}
	e.answer = func(w http.ResponseWriter, stored []byte, _ string) {
		var m map[string]any
		_ = json.Unmarshal(stored, &m)
		m["v"] = e.gen
		e.doc, _ = json.Marshal(m)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/v"))
	require.NoError(t, err)
	var st occ.Stats
	got, err := occ.Modify(context.Background(), c, srv.URL+"/doc", func(v *map[string]any) error {
		(*v)["n"] = 2
		return nil
	}, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"n": 2.0, "v": 2.0}, got)
	assert.Equal(t, "2", st.Version)
	assert.Equal(t, 2, st.Reads)
}

// Azure Table keeps its version as a weak entity tag in the body
// (odata.etag) and sends no ETag header: If-Match carries it as it is.
func TestVersionIfMatchKeepsEntityTags(t *testing.T) {
	t.Parallel()
	tests := []struct{ field, want string }{
		{`"W/\"datetime'2024-05-01T10%3A00%3A00.1Z'\""`, `W/"datetime'2024-05-01T10%3A00%3A00.1Z'"`},
		{`"\"abc\""`, `"abc"`},
		{`"abc"`, `"abc"`},
		{`7`, `"7"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			doc := `{"odata.etag":` + tc.field + `,"n":1}`
			var ifMatch string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if r.Method == http.MethodPut {
					ifMatch = r.Header.Get("If-Match")
					if ifMatch != tc.want {
						http.Error(w, `{"odata.error":{"code":"InvalidInput"}}`, http.StatusBadRequest)
						return
					}
					w.WriteHeader(http.StatusNoContent)
					return
				}
				_, _ = io.WriteString(w, doc)
			}))
			defer srv.Close()
			c, err := occ.New(occ.WithHTTPClient(srv.Client()),
				occ.WithVersionField("/odata.etag"), occ.WithVersionIfMatch(true))
			require.NoError(t, err)
			_, err = occ.Modify(context.Background(), c, srv.URL+"/t(PartitionKey='p',RowKey='r')",
				func(v *note) error { v.N++; return nil })
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.want, ifMatch)
		})
	}
}
