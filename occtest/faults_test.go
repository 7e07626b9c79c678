package occtest_test

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	srv.Inject(occtest.Fault{Method: "PUT", Path: "/a", Status: 503, Header: http.Header{"Retry-After": {"2"}}, Body: "busy", Times: 2})
	srv.Inject(occtest.Fault{Path: "/a", Status: 429})
	runSteps(t, srv, []step{
		{name: "a GET does not match the PUT fault but the path fault", method: "GET", path: "/a", status: 429},
		{name: "first hit", method: "PUT", path: "/a", body: `{"n":2}`, status: 503},
		{name: "second hit", method: "PUT", path: "/a", body: `{"n":2}`, status: 503},
		{name: "consumed", method: "PUT", path: "/a", body: `{"n":2}`, status: 200},
		{name: "queue empty", method: "GET", path: "/a", status: 200},
	})
	assert.Equal(t, 1, srv.Writes())
	resp, body := send(t, srv, "GET", "/a", "")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"n":2}`, body)

	srv.Inject(occtest.Fault{Status: 409, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"error":"locked"}`})
	resp, body = send(t, srv, "DELETE", "/a", "")
	assert.Equal(t, 409, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, `{"error":"locked"}`, body)
	_, _, ok := srv.Get("/a")
	assert.True(t, ok, "a faulted DELETE must not run")
}

func TestFaultQueueOrder(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Inject(occtest.Fault{Status: 503})
	srv.Inject(occtest.Fault{Status: 429})
	srv.Inject(occtest.Fault{Method: "GET", Path: "/b", Status: 502})
	runSteps(t, srv, []step{
		{name: "first queued wins", method: "GET", path: "/b", status: 503},
		{name: "then the next", method: "GET", path: "/b", status: 429},
		{name: "then the last", method: "GET", path: "/b", status: 502},
		{name: "then none", method: "GET", path: "/b", status: 404},
	})
}

func TestFaultRetryAfterHeader(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Inject(occtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"7"}}, Body: "down"})
	resp, body := send(t, srv, "GET", "/a", "")
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	assert.Equal(t, "down", body)
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      occtest.Fault
		wantWrites int
		wantDoc    string
	}{
		{"reset before the write", occtest.Fault{Method: "PUT", Reset: true}, 0, `{"n":1}`},
		{"reset after the write", occtest.Fault{Method: "PUT", ResetAfterWrite: true}, 1, `{"n":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			srv.Inject(tt.fault)
			req, err := http.NewRequest("PUT", srv.URL+"/a", strings.NewReader(`{"n":2}`))
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			require.Error(t, err, "the client must see a broken connection")
			assert.Equal(t, tt.wantWrites, srv.Writes())
			doc, _, _ := srv.Get("/a")
			assert.JSONEq(t, tt.wantDoc, string(doc))
			assert.Len(t, srv.Requests(), 1, "the faulted request is recorded")
		})
	}
}

func TestTransportAbort(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	st.Inject(occtest.Fault{Method: "GET", Reset: true})
	c := &http.Client{Transport: occtest.Transport(st)}
	resp, err := c.Get("http://occtest/a")
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, occtest.ErrConnectionReset)
	assert.ErrorIs(t, err, syscall.ECONNRESET)

	abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	_, err = occtest.Transport(abort).RoundTrip(httptestRequest(t, "POST", "/x", `{}`))
	assert.ErrorIs(t, err, occtest.ErrConnectionReset)

	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = occtest.Transport(boom).RoundTrip(httptestRequest(t, "GET", "/x", ""))
	}, "other panics are not hidden")
}

// httptestRequest builds a client request to a Transport.
func httptestRequest(t *testing.T, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://occtest"+path, strings.NewReader(body))
	require.NoError(t, err)
	return req
}

func TestInjectRejectsInvalidFaults(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]occtest.Fault{
		"nothing to do":                   {Path: "/a"},
		"status and reset":                {Status: 503, Reset: true},
		"two resets":                      {Reset: true, ResetAfterWrite: true},
		"negative times":                  {Status: 503, Times: -1},
		"status out of range":             {Status: 1000},
		"after-write status out of range": {StatusAfterWrite: 99},
		"status twice":                    {Status: 503, StatusAfterWrite: 502},
		"truncate and reset":              {Truncate: true, ResetAfterWrite: true},
		"claim without truncate":          {Status: 200, ClaimLength: 10},
		"negative claim":                  {Truncate: true, ClaimLength: -1},
		"negative delay":                  {Delay: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			st := occtest.NewStore()
			assert.Panics(t, func() { st.Inject(f) })
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Inject(occtest.Fault{Method: "GET", Status: 503})
	send(t, srv, "GET", "/a", "")
	send(t, srv, "PUT", "/a", `{"n":1}`, "If-None-Match", "*", "X-Test", "yes")
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, "/a", reqs[0].Path)
	assert.Empty(t, reqs[0].Body)
	assert.Equal(t, "PUT", reqs[1].Method)
	assert.Equal(t, `{"n":1}`, string(reqs[1].Body))
	assert.Equal(t, "*", reqs[1].Header.Get("If-None-Match"))
	assert.Equal(t, "yes", reqs[1].Header.Get("X-Test"))

	reqs[1].Body[0] = 'X'
	reqs[1].Header.Set("X-Test", "changed")
	again := srv.Requests()
	assert.Equal(t, `{"n":1}`, string(again[1].Body), "Requests returns copies")
	assert.Equal(t, "yes", again[1].Header.Get("X-Test"), "Requests returns copies")
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		size   int
		status int
	}{
		{"exactly 1 MiB", occtest.MaxBodyBytes, 201},
		{"1 MiB and a byte", occtest.MaxBodyBytes + 1, 413},
		{"8 MiB", 8 * occtest.MaxBodyBytes, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			prefix, suffix := `{"s":"`, `"}`
			body := prefix + strings.Repeat("x", tt.size-len(prefix)-len(suffix)) + suffix
			resp, out := send(t, srv, "PUT", "/a", body)
			require.Equal(t, tt.status, resp.StatusCode)
			if tt.status == 413 {
				assert.Equal(t, "too_large", problemOf(t, resp, out)["code"])
				assert.Zero(t, srv.Writes())
				reqs := srv.Requests()
				require.Len(t, reqs, 1)
				assert.LessOrEqual(t, len(reqs[0].Body), occtest.MaxBodyBytes+1, "bodies are read through a limit")
			}
		})
	}
}

// TestRequestsRecordAnswers: each recorded request carries its query, the
// status and headers of its answer, and the fault that hit it, so that
// "the second PUT got 412" can be asserted.
func TestRequestsRecordAnswers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithCurrentInConflict(true))
	srv.Inject(occtest.Fault{Method: "GET", Status: 503, Header: http.Header{"Retry-After": {"3"}}})
	send(t, srv, "GET", "/orders/1?fields=a,b&x=%20", "")
	send(t, srv, "POST", "/orders", `{"n":1}`)
	send(t, srv, "PUT", "/orders/1", `{"n":2}`, "If-Match", `"1"`)
	send(t, srv, "PUT", "/orders/1", `{"n":3}`, "If-Match", `"1"`)
	reqs := srv.Requests()
	require.Len(t, reqs, 4)

	assert.Equal(t, "fields=a,b&x=%20", reqs[0].Query)
	assert.Equal(t, 503, reqs[0].Status)
	assert.Equal(t, "3", reqs[0].ResponseHeader.Get("Retry-After"))
	require.NotNil(t, reqs[0].Fault)
	assert.Equal(t, occtest.FaultStatus, reqs[0].Fault.Kind())

	assert.Equal(t, 201, reqs[1].Status)
	assert.Equal(t, "/orders/1", reqs[1].ResponseHeader.Get("Location"))
	assert.Equal(t, `"1"`, reqs[1].ResponseHeader.Get("ETag"))
	assert.True(t, reqs[1].Applied)
	assert.Nil(t, reqs[1].Fault)

	assert.Equal(t, 200, reqs[2].Status)
	assert.Equal(t, `"2"`, reqs[2].ResponseHeader.Get("ETag"))
	assert.Equal(t, 412, reqs[3].Status, "the second PUT got 412")
	assert.Equal(t, "/orders/1", reqs[3].ResponseHeader.Get("Content-Location"))
	assert.Equal(t, `"2"`, reqs[3].ResponseHeader.Get("ETag"))
	assert.False(t, reqs[3].Applied)

	reqs[1].ResponseHeader.Set("Location", "changed")
	reqs[0].Fault.Status = 1
	again := srv.Requests()
	assert.Equal(t, "/orders/1", again[1].ResponseHeader.Get("Location"), "Requests returns copies")
	assert.Equal(t, 503, again[0].Fault.Status, "Requests returns copies")
}

// TestRequestsRecordResets: a reset sends nothing, before or after the
// write; only the latter applied it.
func TestRequestsRecordResets(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	c := &http.Client{Transport: occtest.Transport(st)}
	st.Inject(occtest.Fault{Reset: true})
	st.Inject(occtest.Fault{ResetAfterWrite: true})
	for range 2 {
		_, err := c.Do(httptestRequest(t, "PUT", "/a", `{"n":1}`))
		require.ErrorIs(t, err, occtest.ErrConnectionReset)
	}
	reqs := st.Requests()
	require.Len(t, reqs, 2)
	for i, want := range []struct {
		kind    occtest.FaultKind
		applied bool
	}{{occtest.FaultReset, false}, {occtest.FaultResetAfterWrite, true}} {
		assert.Zero(t, reqs[i].Status)
		assert.Nil(t, reqs[i].ResponseHeader)
		assert.Equal(t, want.kind, reqs[i].Fault.Kind())
		assert.Equal(t, want.applied, reqs[i].Applied)
	}
}
