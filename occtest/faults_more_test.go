package occtest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// TestFaultStatusAfterWrite: a gateway's 502 after the origin applied the
// write; with an Idempotency-Key, the resend gets the origin's answer.
func TestFaultStatusAfterWrite(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	srv.Inject(occtest.Fault{Method: "PUT", StatusAfterWrite: 502, Body: "bad gateway"})
	hdr := []string{"Idempotency-Key", "k", "If-Match", `"1"`}
	resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, hdr...)
	require.Equal(t, 502, resp.StatusCode)
	assert.Equal(t, "bad gateway", body)
	assert.Equal(t, 1, srv.Writes(), "the write was applied behind the gateway")
	doc, _, _ := srv.Get("/a")
	assert.JSONEq(t, `{"n":2}`, string(doc))

	resp, body = send(t, srv, "PUT", "/a", `{"n":2}`, hdr...)
	assert.Equal(t, 200, resp.StatusCode, "the resend replays the origin's answer: %s", body)
	assert.Equal(t, `"2"`, resp.Header.Get("ETag"))
	assert.Equal(t, 1, srv.Writes())

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	require.NotNil(t, reqs[0].Fault)
	assert.Equal(t, occtest.FaultStatusAfterWrite, reqs[0].Fault.Kind())
	assert.Equal(t, 502, reqs[0].Status, "the status the client saw")
	assert.True(t, reqs[0].Applied)
	assert.False(t, reqs[0].Replayed)
	assert.Nil(t, reqs[1].Fault)
	assert.Equal(t, 200, reqs[1].Status)
	assert.False(t, reqs[1].Applied)
	assert.True(t, reqs[1].Replayed)
}

// TestFaultTruncate: the status and headers arrive, the body is cut.
func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	doc := `{"s":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name       string
		method     string
		fault      occtest.Fault
		wantLength int64
		wantBytes  int
		wantWrites int
	}{
		{"GET, half the body", "GET", occtest.Fault{Truncate: true}, int64(len(doc)), len(doc) / 2, 0},
		{"PUT applied, body cut", "PUT", occtest.Fault{Truncate: true}, int64(len(doc)), len(doc) / 2, 1},
		{"GET claims 32 MiB", "GET", occtest.Fault{Truncate: true, ClaimLength: 32 << 20}, 32 << 20, len(doc), 0},
		{"GET claims less than it has", "GET", occtest.Fault{Truncate: true, ClaimLength: 10}, 10, 9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			require.NoError(t, srv.Set("/a", []byte(doc)))
			srv.Inject(tt.fault)
			req, err := http.NewRequest(tt.method, srv.URL+"/a", strings.NewReader(doc))
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err, "the headers arrive")
			defer resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, tt.wantLength, resp.ContentLength)
			got, err := io.ReadAll(resp.Body)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Len(t, got, tt.wantBytes)
			assert.Equal(t, tt.wantWrites, srv.Writes())
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, 200, reqs[0].Status)
			assert.Equal(t, occtest.FaultTruncate, reqs[0].Fault.Kind())
			assert.Equal(t, tt.wantWrites == 1, reqs[0].Applied)
		})
	}
}

// TestFaultTruncateInProcess: Transport returns the response, and its body
// fails after the bytes sent; a bodiless answer is cut before the headers.
func TestFaultTruncateInProcess(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	require.NoError(t, st.Set("/a", []byte(`{"n":12345}`)))
	c := &http.Client{Transport: occtest.Transport(st)}
	st.Inject(occtest.Fault{Truncate: true})
	resp, err := c.Get("http://occtest/a")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, `{"n":`, string(got), "half of the 11 bytes")
	assert.Equal(t, int64(11), resp.ContentLength)

	st.Inject(occtest.Fault{Truncate: true})
	req := httptestRequest(t, "DELETE", "/a", "")
	_, err = c.Do(req)
	assert.ErrorIs(t, err, occtest.ErrConnectionReset, "a 204 has no body to cut")
	assert.Equal(t, 1, st.Writes())
	reqs := st.Requests()
	assert.Zero(t, reqs[1].Status, "nothing was sent")
	assert.Nil(t, reqs[1].ResponseHeader)
	assert.True(t, reqs[1].Applied)
}

// TestFaultDelay: latency from a timer, so under synctest it takes no real
// time; a client that gives up during the delay gets its context's error
// while the server still applies the write.
func TestFaultDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := occtest.NewStore()
		require.NoError(t, st.Set("/a", []byte(`{"n":1}`)))
		c := &http.Client{Transport: occtest.Transport(st)}
		st.Inject(occtest.Fault{Method: "GET", Delay: time.Hour})
		start := time.Now()
		resp, err := c.Get("http://occtest/a")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, time.Hour, time.Since(start), "the fake clock moved by the delay")

		st.Inject(occtest.Fault{Method: "PUT", Delay: time.Minute, Status: 503})
		resp, err = c.Do(httptestRequest(t, "PUT", "/a", `{"n":2}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 503, resp.StatusCode, "the delay precedes the other kind")

		st.Inject(occtest.Fault{Method: "PUT", Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req := httptestRequest(t, "PUT", "/a", `{"n":3}`).WithContext(ctx)
		_, err = c.Do(req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, st.Writes(), "the server applied it all the same")
		doc, _, _ := st.Get("/a")
		assert.JSONEq(t, `{"n":3}`, string(doc))
		assert.Equal(t, occtest.FaultDelay, st.Requests()[2].Fault.Kind())
	})
}

func TestFaultKind(t *testing.T) {
	t.Parallel()
	tests := map[occtest.FaultKind]occtest.Fault{
		occtest.FaultStatus:           {Status: 503},
		occtest.FaultStatusAfterWrite: {StatusAfterWrite: 504, Delay: time.Second},
		occtest.FaultReset:            {Reset: true},
		occtest.FaultResetAfterWrite:  {ResetAfterWrite: true},
		occtest.FaultTruncate:         {Truncate: true, ClaimLength: 9},
		occtest.FaultDelay:            {Delay: time.Millisecond},
		"":                            {Reset: true, Truncate: true},
	}
	for want, f := range tests {
		assert.Equal(t, want, f.Kind(), "%+v", f)
	}
	assert.Equal(t, occtest.FaultKind(""), occtest.Fault{}.Kind())
}
