package occtest_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestNewTLSServer(t *testing.T) {
	t.Parallel()
	srv := occtest.NewTLSServer(occtest.WithVersionField("/v"))
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "https://127.0.0.1:"), srv.URL)
	resp, body := sendWith(t, srv.Client(), srv.URL, "PUT", "/a", `{"n":1}`)
	require.Equal(t, 201, resp.StatusCode, body)
	require.NotNil(t, resp.TLS, "served over TLS")
	assert.JSONEq(t, `{"n":1,"v":1}`, body)

	plain := &http.Client{Transport: &http.Transport{}}
	defer plain.CloseIdleConnections()
	_, err := plain.Get(srv.URL + "/a")
	var unknown *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &unknown), "a client that does not trust the test certificate fails: %v", err)
}

// TestNewClosesWithTheTest: New's server is closed when the (sub)test that
// made it ends.
func TestNewClosesWithTheTest(t *testing.T) {
	t.Parallel()
	var url string
	var client *http.Client
	t.Run("owner", func(t *testing.T) {
		srv := occtest.New(t)
		url, client = srv.URL, srv.Client()
		resp, err := client.Get(url + "/a")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 404, resp.StatusCode)
	})
	fresh := &http.Client{Transport: &http.Transport{}}
	defer fresh.CloseIdleConnections()
	_, err := fresh.Get(url + "/a")
	assert.Error(t, err, "the server is closed once its test ended")
}

// fakeTB records what New does with its testing.TB.
type fakeTB struct {
	testing.TB
	cleanups []func()
	fatal    []any
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Cleanup(fn func())     { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatal(args ...any)     { f.fatal = append(f.fatal, args...) }
func (f *fakeTB) Errorf(string, ...any) {}

func TestNewInvalidOptionFailsTheTest(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{}
	var srv *occtest.Server
	assert.NotPanics(t, func() { srv = occtest.New(tb, occtest.WithVersionField("version")) })
	assert.Nil(t, srv)
	assert.Len(t, tb.fatal, 1, "the test is failed with the option's error")
	assert.Empty(t, tb.cleanups)

	tb = &fakeTB{}
	srv = occtest.New(tb)
	require.Len(t, tb.cleanups, 1)
	tb.cleanups[0]()
	srv.Close() // closing twice is harmless
}
