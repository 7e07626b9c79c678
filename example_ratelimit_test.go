package occ_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/occ-go/occ"
)

// ParseRateLimit reads the limit an answer announces; occ's client does
// the same on every answer to pace its requests per host.
func ExampleParseRateLimit() {
	h := http.Header{}
	h.Set("RateLimit-Policy", `"default";q=100;w=60`)
	h.Set("RateLimit", `"default";r=0;t=12`)
	h.Set("Retry-After", "12")
	rl := occ.ParseRateLimit(h, time.Now())
	fmt.Println(rl.Style, rl.Limit, rl.Window, rl.Remaining, rl.Reset, rl.RetryAfter)
	// Output: ietf 100 1m0s 0 12s 12s
}
