package occtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestStoreSetGetUpdate(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore(occtest.WithVersionField("/v"))
	_, _, ok := st.Get("/a")
	assert.False(t, ok)
	assert.Error(t, st.Update("/a", func(map[string]any) {}), "no resource")

	for name, doc := range map[string]string{"array": `[1]`, "string": `"x"`, "invalid": `{`, "empty": ``} {
		assert.Error(t, st.Set("/a", []byte(doc)), name)
	}
	assert.Error(t, st.Set("a", []byte(`{}`)), "relative path")

	require.NoError(t, st.Set("/a", []byte(`{"n":1,"big":12345678901234567890}`)))
	doc, etag, ok := st.Get("/a")
	require.True(t, ok)
	assert.Equal(t, `"1"`, etag)
	assert.JSONEq(t, `{"n":1,"big":12345678901234567890,"v":1}`, string(doc), "numbers are kept exactly")
	doc[0] = 'X'
	doc, _, _ = st.Get("/a")
	assert.Equal(t, byte('{'), doc[0], "Get returns a copy")

	require.NoError(t, st.Update("/a", func(d map[string]any) {
		n, err := d["n"].(json.Number).Int64() // numbers arrive as json.Number
		require.NoError(t, err)
		d["n"] = n + 1
	}))
	require.NoError(t, st.Update("/a", func(map[string]any) {}))
	doc, etag, _ = st.Get("/a")
	assert.Equal(t, `"3"`, etag, "Update bumps the version even without a change")
	assert.Equal(t, 2.0, docOf(t, string(doc))["n"])
	assert.Error(t, st.Update("/a", func(d map[string]any) { d["ch"] = make(chan int) }), "unencodable")
	assert.Zero(t, st.Writes(), "Set and Update are not HTTP writes")
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]occtest.Option{
		"nil option":              nil,
		"version field without /": occtest.WithVersionField("version"),
		"empty version field":     occtest.WithVersionField(""),
		"bad escape":              occtest.WithVersionField("/a~2"),
		"unique without /":        occtest.WithUnique("email"),
		"transitions nil map":     occtest.WithTransitions("/status", nil),
		"transitions bad pointer": occtest.WithTransitions("status", map[string][]string{}),
		"precondition status 200": occtest.WithPreconditionStatus(200),
		"precondition status 500": occtest.WithPreconditionStatus(500),
		"negative request log":    occtest.WithRequestLog(-1),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Panics(t, func() { occtest.NewStore(opt) })
			assert.Panics(t, func() { occtest.NewServer(opt) })
		})
	}
	assert.NotPanics(t, func() { occtest.NewStore(occtest.WithVersionField("/a~0b~1c")) })
}

func TestBeforeWrite(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	var mu sync.Mutex
	var seen []string
	srv.BeforeWrite(func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+string(body))
		mu.Unlock()
		require.NoError(t, srv.Update("/a", func(d map[string]any) { d["other"] = true }))
	})
	resp, _ := send(t, srv, "GET", "/a", "")
	etag := resp.Header.Get("ETag")
	resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, "If-Match", etag)
	assert.Equal(t, 412, resp.StatusCode, "the competing write lands between read and write: %s", body)
	assert.Equal(t, []string{`PUT {"n":2}`}, seen, "called for writes only, with the body readable")

	srv.BeforeWrite(nil)
	resp, _ = send(t, srv, "GET", "/a", "")
	resp, body = send(t, srv, "PUT", "/a", `{"n":2}`, "If-Match", resp.Header.Get("ETag"))
	assert.Equal(t, 200, resp.StatusCode, body)
	assert.Len(t, seen, 1)
}

// increment adds one to /counter with a conditional PUT, retrying on 412;
// it reports the attempts used, or an error after max.
func increment(c *http.Client, base string, max int) (int, error) {
	for attempt := 1; attempt <= max; attempt++ {
		resp, err := c.Get(base + "/counter")
		if err != nil {
			return attempt, err
		}
		var doc struct{ N int }
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil {
			return attempt, err
		}
		req, _ := http.NewRequest("PUT", base+"/counter", strings.NewReader(fmt.Sprintf(`{"n":%d}`, doc.N+1)))
		req.Header.Set("If-Match", resp.Header.Get("ETag"))
		resp, err = c.Do(req)
		if err != nil {
			return attempt, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return attempt, nil
		case http.StatusPreconditionFailed:
			continue
		}
		return attempt, fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	return max, fmt.Errorf("gave up after %d attempts", max)
}

func TestConcurrentConditionalIncrements(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 16, 25
	srv := newServer(t)
	require.NoError(t, srv.Set("/counter", []byte(`{"n":0}`)))
	errs := make(chan error, workers*perWorker)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				_, err := increment(srv.Client(), srv.URL, 10*workers*perWorker)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	doc, etag, _ := srv.Get("/counter")
	assert.JSONEq(t, `{"n":400}`, string(doc), "no lost update")
	assert.Equal(t, `"401"`, etag)
	assert.Equal(t, workers*perWorker, srv.Writes())
	t.Log("requests:", len(srv.Requests()))
}

func TestTransportInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := occtest.NewStore(occtest.WithVersionField("/version"))
		c := &http.Client{Transport: occtest.Transport(st)}
		require.NoError(t, st.Set("/counter", []byte(`{"n":0}`)))
		st.BeforeWrite(func(*http.Request) {
			st.BeforeWrite(nil)
			_ = st.Update("/counter", func(d map[string]any) { d["n"] = 10.0 })
		})
		attempts, err := increment(c, "http://occtest", 5)
		require.NoError(t, err)
		assert.Equal(t, 2, attempts, "one conflict, then success")
		doc, _, _ := st.Get("/counter")
		assert.JSONEq(t, `{"n":11,"version":3}`, string(doc))

		resp, err := c.Head("http://occtest/counter")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Empty(t, body, "HEAD has no body")
		assert.Equal(t, `"3"`, resp.Header.Get("ETag"))
	})
}

func TestServeHTTPDirectly(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	require.NoError(t, st.Set("/a", []byte(`{"n":1}`)))
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"httptest request", httptest.NewRequest("GET", "/a", nil), 200},
		{"nil body", &http.Request{Method: "GET", URL: &url.URL{Path: "/a"}, Header: http.Header{}}, 200},
		{"nil body PUT", &http.Request{Method: "PUT", URL: &url.URL{Path: "/a"}, Header: http.Header{}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			st.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
		})
	}
}
