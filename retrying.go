package occ

import (
	"net/http"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// maxRetryingLayers bounds how many retrying transports, one inside the
// other, withoutOwnRetries unwraps.
const maxRetryingLayers = 8

// withoutOwnRetries returns a copy of hc that sends each request once: a
// go-retryablehttp [retryablehttp.RoundTripper] (what its StandardClient
// installs) resends on its own, unseen by occ, and would repeat a create or
// a write whose answer was lost and multiply occ's transient retries by its
// own. Its retries are dropped: occ sends through the [http.Client] it
// wraps (that client's transport, and its timeout and cookie jar when hc
// sets none), and occ's transient retries ([WithTransientRetries]) take
// their place. Other fields of hc are kept.
func withoutOwnRetries(hc *http.Client) *http.Client {
	cp := *hc
	for range maxRetryingLayers {
		rt, ok := cp.Transport.(*retryablehttp.RoundTripper)
		if !ok {
			break
		}
		if rt.Client == nil || rt.Client.HTTPClient == nil { // what retryablehttp would make
			cp.Transport = cleanhttp.DefaultPooledTransport()
			break
		}
		inner := rt.Client.HTTPClient
		cp.Transport = inner.Transport
		if cp.Timeout == 0 {
			cp.Timeout = inner.Timeout
		}
		if cp.Jar == nil {
			cp.Jar = inner.Jar
		}
	}
	return &cp
}
