package occ

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retryingClient returns what a service using go-retryablehttp passes to
// WithHTTPClient: its StandardClient, retrying every failure of h's.
func retryingClient(h http.Handler) *http.Client {
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.RetryWaitMax = time.Millisecond // so that unneutralised retries would not stall the test
	rc.HTTPClient.Transport = inMemory{h}
	return rc.StandardClient()
}

func TestARetryingClientNeverDuplicatesACreateWhoseAnswerWasLost(t *testing.T) {
	var creates atomic.Int32
	lost := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			creates.Add(1)
			panic(http.ErrAbortHandler) // created, but the answer is lost
		}
		w.WriteHeader(http.StatusNotFound)
	})
	c := memClient(t, lost, WithHTTPClient(retryingClient(lost)))
	_, err := Create(context.Background(), c, "http://api.test/users", item{Name: "ann"},
		WithCreateMethod(http.MethodPost))
	require.ErrorIs(t, err, ErrAmbiguous, "never acknowledged unproven")
	assert.Equal(t, int32(1), creates.Load(), "one create sent: no duplicate user")
}

func TestARetryingClientDoesNotMultiplyTransientRetries(t *testing.T) {
	var gets atomic.Int32
	unavailable := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		gets.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := memClient(t, unavailable, WithHTTPClient(retryingClient(unavailable)),
		WithTransientRetries(2, BackoffFunc(func(int) time.Duration { return 0 })))
	_, err := Get[item](context.Background(), c, itemURL)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
	assert.Equal(t, int32(3), gets.Load(), "occ's first send and its 2 transient retries, nothing more")
}

func TestWithHTTPClientKeepsTheWrappedClientsTimeoutAndNeverModifiesTheCallers(t *testing.T) {
	t.Parallel()
	rc := retryablehttp.NewClient()
	rc.HTTPClient.Timeout = 7 * time.Second
	std := rc.StandardClient()
	c, err := New(WithHTTPClient(std))
	require.NoError(t, err)
	assert.Equal(t, rc.HTTPClient.Transport, c.hc.Transport, "sends through the wrapped client's transport")
	assert.Equal(t, 7*time.Second, c.hc.Timeout)
	assert.IsType(t, &retryablehttp.RoundTripper{}, std.Transport, "the caller's client is untouched")

	c, err = New(WithHTTPClient(&http.Client{Transport: &retryablehttp.RoundTripper{}}))
	require.NoError(t, err)
	assert.IsType(t, &http.Transport{}, c.hc.Transport, "a RoundTripper without a client: retryablehttp's default transport")
}
