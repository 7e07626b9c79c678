package occ

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrOtherOrigin is returned, inside an [*OriginError], when a server
// names a URL on another origin (scheme, host and port) than the one the
// caller passed, for a request occ would make on its own initiative: the
// read of a created document, the adoption of an existing one. occ never
// sends such a request: the caller's credentials stay with the host the
// caller named, and no request goes from https to http.
var ErrOtherOrigin = errors.New("occ: the server named a URL on another origin")

// OriginError reports a URL on another origin that occ did not follow. It
// matches [ErrOtherOrigin] with [errors.Is] and unwraps to the conflict
// that named the URL, when one did.
type OriginError struct {
	// URL is the caller's URL and Target the one the server named (its
	// Location), both without user info or fragment, secret query values
	// REDACTED.
	URL, Target string
	// Landed is true when the write the answer was to landed (a create
	// answered 2xx): do not send it again.
	Landed bool
	// Err is the conflict whose answer named Target, or nil.
	Err error
}

// Error returns a one-line description; its text is not a contract.
func (e *OriginError) Error() string {
	msg := fmt.Sprintf("%v: %s, from %s: not followed", ErrOtherOrigin,
		cleanText(e.Target, maxShort), cleanText(e.URL, maxShort))
	if e.Landed {
		msg += " (the write landed)"
	}
	if e.Err != nil {
		msg += ": " + strings.TrimPrefix(e.Err.Error(), "occ: ")
	}
	return msg
}

// Unwrap returns ErrOtherOrigin and the conflict, when there is one.
func (e *OriginError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrOtherOrigin}
	}
	return []error{ErrOtherOrigin, e.Err}
}

// sameOrigin reports whether target, resolved against callerURL, has the
// same scheme, host and port as callerURL (ports defaulted by scheme, the
// host compared case-insensitively). A URL that does not parse has no
// origin and matches nothing.
func sameOrigin(callerURL, target string) bool {
	c, err := url.Parse(callerURL)
	if err != nil {
		return false
	}
	t, err := url.Parse(target)
	if err != nil {
		return false
	}
	return sameOriginURL(c, c.ResolveReference(t))
}

// sameOriginURL is [sameOrigin] for parsed absolute URLs.
func sameOriginURL(a, b *url.URL) bool {
	sa, sb := strings.ToLower(a.Scheme), strings.ToLower(b.Scheme)
	if sa != sb || (sa != "http" && sa != "https") || a.Host == "" {
		return false
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

// portOf returns u's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// otherOrigin builds the [*OriginError] for a target that is not on
// callerURL's origin.
func (s *errorSettings) otherOrigin(callerURL, target string, landed bool, cause error) *OriginError {
	return &OriginError{
		URL:    s.redactURLText(callerURL),
		Target: s.redactURLText(resolveURL(callerURL, target)),
		Landed: landed, Err: cause,
	}
}

// refuseLocation ends a create whose answer's Location is on another
// origin: the body is drained and closed, and the create reported as
// landed.
func (c *Client) refuseLocation(resp *http.Response, callerURL, loc string) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	return c.errs.otherOrigin(callerURL, loc, true, nil)
}

// maxRedirects is how many same-origin redirects a read follows by
// default, as net/http does.
const maxRedirects = 10

// readRedirects returns the redirect policy of reads (writes never follow
// one, see writesStay). A redirect from https to plain http is never
// followed. Without a policy of the caller's, a read follows redirects on
// the origin of its first request only, at most 10; a redirect elsewhere
// comes back as the 3xx answer, and so as a [*StatusError] carrying its
// Location. With the caller's policy (the CheckRedirect of the
// [http.Client] given to [WithHTTPClient]), that policy decides, and a
// redirect it lets cross to another origin carries none of the request's
// headers but the harmless ones (see plainHeaders): no header set by
// [WithHeader], no credential.
func readRedirects(policy func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if strings.EqualFold(first.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https") {
			return http.ErrUseLastResponse
		}
		cross := !sameOriginURL(first, req.URL)
		if policy == nil {
			if cross {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("occ: stopped after %d redirects", maxRedirects)
			}
			return nil
		}
		if err := policy(req, via); err != nil {
			return err
		}
		if cross {
			keepPlainHeaders(req.Header)
		}
		return nil
	}
}

// plainHeaders are the request headers that carry no credential: occ's own
// protocol headers and content negotiation. Every other header a request
// carries (set through [WithHeader], by the caller's request, or by its
// transport) is taken as sensitive: it never follows a redirect to another
// origin, and its value is scrubbed from the server's text occ repeats.
var plainHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Content-Type": true, "Content-Length": true, "User-Agent": true,
	"If-Match": true, "If-None-Match": true, "If-Unmodified-Since": true,
	"If-Modified-Since": true, "Idempotency-Key": true, "Traceparent": true,
	"Tracestate": true, "Baggage": true,
}

// keepPlainHeaders deletes every header of h but the plain ones.
func keepPlainHeaders(h http.Header) {
	for k := range h {
		if !plainHeaders[http.CanonicalHeaderKey(k)] {
			delete(h, k)
		}
	}
}
