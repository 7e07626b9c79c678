package occ_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ"
)

// managing is a JSON API that manages members of its documents: every write
// bumps "version" and sets "updated_at", and lower-cases "email"; it answers
// a write with the document as stored, under a new ETag.
type managing struct {
	mu  sync.Mutex
	doc map[string]any
	gen int
}

func (m *managing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	etag := `"` + string(rune('a'+m.gen)) + `"`
	if r.Method == http.MethodPut {
		if r.Header.Get("If-Match") != etag {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		var d map[string]any
		_ = json.Unmarshal(body, &d)
		if e, ok := d["email"].(string); ok {
			d["email"] = strings.ToLower(e)
		}
		d["version"] = m.doc["version"].(float64) + 1
		d["updated_at"] = "2026-03-01T12:00:00Z"
		m.doc, m.gen = d, m.gen+1
		etag = `"` + string(rune('a'+m.gen)) + `"`
	}
	w.Header().Set("ETag", etag)
	_ = json.NewEncoder(w).Encode(m.doc)
}

type bumped struct {
	N       int `json:"n"`
	Version int `json:"version"`
}

type contact struct {
	Email string `json:"email"`
}

func TestResultsAreWhatTheServerHolds(t *testing.T) {
	m := &managing{doc: map[string]any{"n": 4.0, "version": 1.0, "email": "a@x.org"}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	c, err := occ.New()
	require.NoError(t, err)
	ctx := context.Background()
	url := srv.URL + "/c/1"

	got, err := occ.Modify(ctx, c, url, func(v *bumped) error { v.N++; return nil })
	require.NoError(t, err)
	assert.Equal(t, bumped{N: 5, Version: 2}, got, "the server's version, not the one sent")

	raw, err := occ.ModifyJSON(ctx, c, url, func(b []byte) ([]byte, error) {
		return []byte(strings.Replace(string(b), `"n":5`, `"n":6`, 1)), nil
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":6,"version":3,"email":"a@x.org","updated_at":"2026-03-01T12:00:00Z"}`, string(raw))

	base, err := occ.Get[contact](ctx, c, url)
	require.NoError(t, err)
	put, err := occ.Put(ctx, c, url, base, contact{Email: "Ann@X.org"})
	require.NoError(t, err)
	assert.Equal(t, "ann@x.org", put.Value.Email, "the normalised address the server holds")
	assert.Contains(t, string(put.Raw), `"version":4`)
}

func TestADialectsDecodedAnswerIsTheResultWhenItIsTheDocument(t *testing.T) {
	m := &managing{doc: map[string]any{"n": 4.0, "version": 1.0}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	c, err := occ.New(occ.WithDialect(occ.Dialect{Decode: occ.VersionHeader("ETag")}))
	require.NoError(t, err)
	got, err := occ.Modify(context.Background(), c, srv.URL+"/c/1", func(v *bumped) error { v.N++; return nil })
	require.NoError(t, err)
	assert.Equal(t, bumped{N: 5, Version: 2}, got)
}
