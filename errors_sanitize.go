package occ

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on the text kept from an error body.
const (
	maxMessage = 1024 // bytes of Message, Suggestion and Problem texts
	maxShort   = 256  // bytes of Code, a field name, a version, a URL or an id
	maxFields  = 32   // how many Fields are kept
)

// finish completes a parsed error: headers override and complete the body,
// and every text is sanitised.
func finish(resp *http.Response, e *ConflictError) {
	if etag := resp.Header.Get("Etag"); etag != "" {
		e.CurrentVersion = etag
	}
	for _, k := range requestIDHeaders {
		if v := resp.Header.Get(k); v != "" {
			e.RequestID = v
			break
		}
	}
	if d, ok := retryAfter(resp.Header, time.Now); ok {
		e.RetryAfter = d
	}
	sanitize(e)
}

// sanitize makes every text field valid UTF-8 on one line within bounds,
// and drops empty and repeated Fields.
func sanitize(e *ConflictError) {
	e.Code = cleanText(e.Code, maxShort)
	e.Message = cleanText(e.Message, maxMessage)
	e.Suggestion = cleanText(e.Suggestion, maxMessage)
	e.CurrentVersion = cleanText(e.CurrentVersion, maxShort)
	e.DocumentationURL = cleanText(e.DocumentationURL, maxShort)
	e.RequestID = cleanText(e.RequestID, maxShort)
	e.Fields = cleanFields(e.Fields)
	if p := e.Problem; p != nil {
		p.Type, p.Instance = cleanText(p.Type, maxShort), cleanText(p.Instance, maxShort)
		p.Title, p.Detail = cleanText(p.Title, maxMessage), cleanText(p.Detail, maxMessage)
	}
}

// cleanFields sanitises names, drops empty and repeated ones and keeps at
// most maxFields.
func cleanFields(fields []string) []string {
	var out []string
	for _, f := range fields {
		f = cleanText(f, maxShort)
		if f != "" && !slices.Contains(out, f) && len(out) < maxFields {
			out = append(out, f)
		}
	}
	return out
}

// cleanText returns s as valid UTF-8, control characters and runs of
// white space turned into single spaces, trimmed and cut to at most max
// bytes (ending in "…" when cut).
func cleanText(s string, max int) string {
	if isClean(s, max) {
		return s
	}
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isClean reports whether cleanText would return s unchanged: short
// enough, valid UTF-8, no control characters, single spaces inside only.
func isClean(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return false
	}
	prev := 'x'
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			(unicode.IsSpace(r) && (r != ' ' || prev == ' ')) {
			return false
		}
		prev = r
	}
	return true
}

// retryAfter parses a Retry-After header: delay seconds, or an HTTP date
// measured against the answer's Date header, else against now().
func retryAfter(h http.Header, now func() time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return seconds(n), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	base := now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		base = d
	}
	return max(at.Sub(base), 0), true
}

// seconds converts n seconds to a Duration, saturating instead of
// overflowing; negative n is 0.
func seconds(n int64) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n > math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

// secretWords mark query parameters whose values are redacted.
var secretWords = []string{"token", "key", "secret", "signature", "password", "passwd",
	"pwd", "sig", "code", "auth", "credential", "session", "jwt"}

// redactURL returns u without user info or fragment, the values of
// secret-looking query parameters replaced by REDACTED.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	r.RawQuery = redactQuery(r.RawQuery)
	return r.String()
}

// redactQuery redacts a raw query, keeping its order and encoding.
func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && isSecretName(name) {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// isSecretName reports whether a query parameter name looks secret.
func isSecretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
