package occtest_test

import (
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// get sends a GET through c and returns its answer, body closed.
func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp
}

func TestWithRateLimitServesNPerWindow(t *testing.T) {
	for _, tc := range []struct {
		style    occtest.RateLimitStyle
		announce map[string]string // headers of the second answer
	}{
		{occtest.RateLimitSilent, map[string]string{"RateLimit": "", "X-RateLimit-Remaining": ""}},
		{occtest.RateLimitIETF, map[string]string{"RateLimit-Policy": `"default";q=2;w=1`, "RateLimit": `"default";r=0;t=1`}},
		{occtest.RateLimitX, map[string]string{"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "2"}},
	} {
		synctest.Test(t, func(t *testing.T) {
			st := occtest.NewStore(occtest.WithRateLimit(2, time.Second, tc.style))
			require.NoError(t, st.Set("/a", []byte(`{}`)))
			c := &http.Client{Transport: occtest.Transport(st)}
			time.Sleep(300 * time.Millisecond) // into the window
			assert.Equal(t, http.StatusOK, get(t, c, "http://occtest/a").StatusCode)
			resp := get(t, c, "http://occtest/a")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			for k, v := range tc.announce {
				assert.Equal(t, v, resp.Header.Get(k), k)
			}
			resp = get(t, c, "http://occtest/a")
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the third in the window")
			assert.Equal(t, "1", resp.Header.Get("Retry-After"), "0.7s, in whole seconds rounded up")
			if tc.style == occtest.RateLimitX {
				reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
				require.NoError(t, err)
				assert.Equal(t, time.Now().Truncate(time.Second).Add(time.Second).Unix(), reset, "the window's end, epoch seconds")
			}
			assert.Equal(t, 1, st.RateLimited())
			assert.Len(t, st.Requests(), 3, "the refused request is recorded")

			time.Sleep(700 * time.Millisecond) // the next window
			assert.Equal(t, http.StatusOK, get(t, c, "http://occtest/a").StatusCode)
		})
	}
}

func TestWithRateLimitRejectsBadArguments(t *testing.T) {
	for _, o := range []occtest.Option{
		occtest.WithRateLimit(0, time.Second, occtest.RateLimitIETF),
		occtest.WithRateLimit(1, 0, occtest.RateLimitIETF),
		occtest.WithRateLimit(1, time.Second, occtest.RateLimitStyle(9)),
	} {
		assert.Panics(t, func() { occtest.NewStore(o) })
	}
}
