package occtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/occ-go/occ/occtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...occtest.Option) *occtest.Server {
	t.Helper()
	return occtest.New(t, opts...)
}

// send performs one request; hdr holds header name/value pairs. It returns
// the response, whose body has been read into the returned string.
func send(t *testing.T, srv *occtest.Server, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	return sendWith(t, srv.Client(), srv.URL, method, path, body, hdr...)
}

// sendWith is send through any client.
func sendWith(t *testing.T, c *http.Client, base, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if body == "" {
		req.Body = http.NoBody
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

// problemOf decodes a problem+json body.
func problemOf(t *testing.T, resp *http.Response, body string) map[string]any {
	t.Helper()
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), body)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &p), body)
	require.Equal(t, float64(resp.StatusCode), p["status"])
	require.NotEmpty(t, p["type"])
	require.NotEmpty(t, p["title"])
	return p
}

// docOf decodes a JSON object body.
func docOf(t *testing.T, body string) map[string]any {
	t.Helper()
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &d), body)
	return d
}
