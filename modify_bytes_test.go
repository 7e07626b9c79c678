package occ_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDAV is one non-JSON item behind a strong ETag, as a WebDAV server
// (Radicale, lighttpd) keeps it: 412 in text for a stale If-Match.
type fakeDAV struct {
	mu        sync.Mutex
	body      []byte
	ctype     string
	gen       int
	noETag    bool
	loseFirst bool // drop the connection after the first write lands
	writes    int
	puts      []*http.Request
}

func (f *fakeDAV) etag() string { return fmt.Sprintf(`"%d"`, f.gen) }

func (f *fakeDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.noETag {
		w.Header().Set("ETag", f.etag())
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", f.ctype)
		_, _ = w.Write(f.body)
	case http.MethodPut:
		f.puts = append(f.puts, r.Clone(context.Background()))
		if r.Header.Get("If-Match") != f.etag() {
			http.Error(w, "Precondition failed.", http.StatusPreconditionFailed)
			return
		}
		f.body, f.ctype, f.gen, f.writes = body, r.Header.Get("Content-Type"), f.gen+1, f.writes+1
		if f.loseFirst {
			f.loseFirst = false
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("ETag", f.etag())
		w.WriteHeader(http.StatusNoContent)
	}
}

const vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann\r\nFN:Ann\r\nX-COUNT:0\r\nEND:VCARD\r\n"

var countLine = regexp.MustCompile(`X-COUNT:(\d+)`)

// bumpCount increments the X-COUNT line of a vCard.
func bumpCount(b []byte) ([]byte, error) {
	m := countLine.FindSubmatch(b)
	if m == nil {
		return nil, errors.New("no X-COUNT")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return countLine.ReplaceAll(b, []byte("X-COUNT:"+strconv.Itoa(n+1))), nil
}

// rename sets the vCard's name: applied twice, it changes nothing more.
func rename(b []byte) ([]byte, error) {
	return bytes.Replace(b, []byte("FN:Ann\r\n"), []byte("FN:Ann Smith\r\n"), 1), nil
}

func TestModifyBytesVCard(t *testing.T) {
	t.Parallel()
	f := &fakeDAV{body: []byte(vcard), ctype: "text/vcard; charset=utf-8", gen: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var attempts sync.Map
	c := raceClient(t, srv, occ.WithHooks(occ.Hooks{OnRequest: func(_ context.Context, a occ.Request) {
		attempts.Store(a.Method, true)
	}}))
	ctx := context.Background()
	url := srv.URL + "/ann.vcf"

	_, err := occ.Modify(ctx, c, url, func(*map[string]any) error { return nil })
	require.ErrorIs(t, err, occ.ErrInvalidDocument, "a vCard is no JSON: Modify cannot take it")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				_, err := occ.ModifyBytes(ctx, c, url, bumpCount)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Contains(t, string(f.body), "X-COUNT:20\r\n", "no update lost, none doubled")
	assert.Equal(t, 20, f.writes)
	assert.Equal(t, "text/vcard; charset=utf-8", f.ctype, "the write keeps the read's content type")
	for _, r := range f.puts {
		assert.NotEmpty(t, r.Header.Get("Idempotency-Key"))
		assert.NotEqual(t, "application/json", r.Header.Get("Accept"))
	}
	_, sawGet := attempts.Load(http.MethodGet)
	_, sawPut := attempts.Load(http.MethodPut)
	assert.True(t, sawGet && sawPut, "hooks see every request")
}

func TestModifyBytesOutcomes(t *testing.T) {
	t.Parallel()
	errNo := errors.New("no thanks")
	tests := []struct {
		name    string
		dav     func() *fakeDAV
		change  func([]byte) ([]byte, error)
		wantErr error
		want    string // the item afterwards
		writes  int
		puts    int
	}{
		{"a change that changes nothing writes nothing", func() *fakeDAV { return &fakeDAV{} },
			func(b []byte) ([]byte, error) { return b, nil }, nil, vcard, 0, 0},
		{"an error aborts", func() *fakeDAV { return &fakeDAV{} },
			func([]byte) ([]byte, error) { return nil, errNo }, errNo, vcard, 0, 0},
		{"no version: nothing written", func() *fakeDAV { return &fakeDAV{noETag: true} },
			bumpCount, occ.ErrNoVersion, vcard, 0, 0},
		{"a lost answer: an increment is not applied twice, and says so", func() *fakeDAV { return &fakeDAV{loseFirst: true} },
			bumpCount, occ.ErrAmbiguous, "X-COUNT:1\r\n", 1, 2},
		{"a lost answer: a change already there is done", func() *fakeDAV { return &fakeDAV{loseFirst: true} },
			rename, nil, "FN:Ann Smith\r\n", 1, 2},
		{"an emptied document is written", func() *fakeDAV { return &fakeDAV{} },
			func([]byte) ([]byte, error) { return []byte{}, nil }, nil, "", 1, 1},
		{"nil is no document: nothing written", func() *fakeDAV { return &fakeDAV{} },
			func([]byte) ([]byte, error) { return nil, nil }, occ.ErrInvalidDocument, vcard, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tc.dav()
			f.body, f.ctype, f.gen = []byte(vcard), "text/vcard", 1
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := raceClient(t, srv)
			var st occ.Stats
			got, err := occ.ModifyBytes(context.Background(), c, srv.URL+"/x.vcf", tc.change, occ.WithStats(&st))
			f.mu.Lock()
			defer f.mu.Unlock()
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Contains(t, string(got), tc.want)
			}
			if tc.change != nil && errors.Is(err, errNo) {
				assert.ErrorIs(t, err, occ.ErrChangeAborted)
			}
			assert.Contains(t, string(f.body), tc.want)
			if tc.want == "" {
				assert.Empty(t, f.body)
			}
			assert.Equal(t, tc.writes, f.writes, "writes that landed")
			assert.Len(t, f.puts, tc.puts, "PUTs sent")
		})
	}
}
