package occ

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is the request rate limit a server announced in an answer's
// headers, as read by [ParseRateLimit]. occ reads it from every answer to
// pace the requests it sends to that host (see [WithRateLimitPacing]), and
// keeps it on [StatusError], [ConflictError] and [Retry].
type RateLimit struct {
	// Limit is how many requests the window allows (the IETF policy's q,
	// RateLimit-Limit or X-RateLimit-Limit), or 0 when not announced.
	Limit int
	// Remaining is how many requests are left in the current window, or -1
	// when not announced.
	Remaining int
	// Reset is how long after the answer the window resets (the quota is
	// refilled), or 0 when not announced.
	Reset time.Duration
	// Window is the length of the policy's window (the IETF policy's w), or
	// 0 when not announced.
	Window time.Duration
	// RetryAfter is the wait the answer asked for in retry-after-ms,
	// x-ms-retry-after-ms or Retry-After (seconds or an HTTP date), or 0.
	RetryAfter time.Duration
	// Style names the headers it came from: "ietf" (RateLimit and
	// RateLimit-Policy structured fields), "ietf-legacy" (RateLimit-Limit,
	// -Remaining and -Reset), "x-ratelimit" (X-RateLimit-*) or
	// "retry-after" (only a wait).
	Style string
}

// The announcement styles of [RateLimit.Style].
const (
	styleIETF       = "ietf"
	styleIETFLegacy = "ietf-legacy"
	styleX          = "x-ratelimit"
	styleRetryAfter = "retry-after"
)

// Bounds on announced values: a hostile server cannot make occ wait for
// longer than a day on one announcement, nor overflow a count.
const (
	maxAnnouncedWait  = 24 * time.Hour
	maxAnnouncedCount = 1 << 30
	maxAnnouncedField = 4 << 10 // longer header values are ignored
)

// ParseRateLimit reads the rate limit announced in h, an answer's headers,
// measured from now (used for Retry-After as an HTTP date, with the
// answer's Date when given, and for an X-RateLimit-Reset in epoch seconds).
// It reads, in order of preference, the IETF RateLimit and RateLimit-Policy
// structured fields of draft-ietf-httpapi-ratelimit-headers (the current
// draft's `"name";r=..;t=..`, and the dictionary form `limit=..,
// remaining=.., reset=..` of earlier drafts), the older
// RateLimit-Limit/-Remaining/-Reset trio, and the de-facto
// X-RateLimit-Limit/-Remaining/-Reset (a reset nearer now in epoch
// seconds, or milliseconds, than 0 is that epoch time, else delta seconds;
// X-RateLimit-Reset-After in seconds). The wait comes from retry-after-ms, x-ms-retry-after-ms or
// Retry-After. Values that do not parse are ignored; counts are bounded to
// 2^30 and durations to a day. It returns nil when h announces nothing. It is
// safe for concurrent use.
func ParseRateLimit(h http.Header, now time.Time) *RateLimit {
	rl := RateLimit{Remaining: -1} // on the stack: most answers announce nothing
	switch {
	case rl.parseIETF(h):
		rl.Style = styleIETF
	case rl.parseTrio(h, "Ratelimit-", now, false):
		rl.Style = styleIETFLegacy
	case rl.parseTrio(h, "X-Ratelimit-", now, true):
		rl.Style = styleX
	}
	if d, ok := announcedWait(h, now); ok {
		rl.RetryAfter = d
		if rl.Style == "" {
			rl.Style = styleRetryAfter
		}
	}
	if rl.Style == "" {
		return nil
	}
	out := rl
	return &out
}

// announcedWait reads the wait an answer asks for: retry-after-ms,
// x-ms-retry-after-ms, else Retry-After; bounded to a day.
func announcedWait(h http.Header, now time.Time) (time.Duration, bool) {
	for _, k := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if ms, ok := parseNumber(h.Get(k)); ok {
			return boundWait(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" || len(v) > maxAnnouncedField {
		return 0, false
	}
	d, ok := retryAfter(h, func() time.Time { return now })
	return min(d, maxAnnouncedWait), ok
}

// parseNumber parses a finite, non-negative decimal number of at most 32
// characters.
func parseNumber(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 32 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseCount parses a non-negative integer count, bounded.
func parseCount(v string) (int, bool) {
	f, ok := parseNumber(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int(min(f, maxAnnouncedCount)), true
}

// boundWait turns nanoseconds into a Duration in [0, maxAnnouncedWait].
func boundWait(ns float64) time.Duration {
	if !(ns > 0) {
		return 0
	}
	return time.Duration(min(ns, float64(maxAnnouncedWait)))
}

// parseTrio reads prefix+Limit, -Remaining and -Reset. With epoch, a large
// reset is a point in time (epoch seconds or milliseconds); without, it is
// always delta seconds, as the IETF drafts define it.
func (rl *RateLimit) parseTrio(h http.Header, prefix string, now time.Time, epoch bool) bool {
	rem, ok := parseCount(h.Get(prefix + "Remaining"))
	if !ok {
		return false
	}
	rl.Remaining = rem
	rl.Limit, _ = parseCount(h.Get(prefix + "Limit"))
	if f, ok := parseNumber(h.Get(prefix + "Reset")); ok {
		rl.Reset = resetAfter(f, now, epoch)
	} else if f, ok := parseNumber(h.Get(prefix + "Reset-After")); ok {
		rl.Reset = boundWait(f * float64(time.Second))
	}
	if epoch {
		return true
	}
	if q, w, ok := legacyPolicy(h.Get("Ratelimit-Policy")); ok {
		rl.Limit, rl.Window = cmpOr(rl.Limit, q), w
	}
	return true
}

// resetAfter turns a reset value into a wait. With epoch, a value nearer
// now's epoch milliseconds than 0 is epoch milliseconds, one nearer now's
// epoch seconds than 0 is epoch seconds; anything else is delta seconds.
func resetAfter(f float64, now time.Time, epoch bool) time.Duration {
	switch {
	case epoch && f > float64(now.UnixMilli()/2) && f < math.MaxInt64/2:
		return boundWait(float64(time.UnixMilli(int64(f)).Sub(now)))
	case epoch && f > float64(now.Unix()/2) && f < math.MaxInt64/2:
		return boundWait(float64(time.Unix(int64(f), 0).Sub(now)))
	}
	return boundWait(f * float64(time.Second))
}

// cmpOr returns a unless it is 0, else b.
func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// parseIETF reads the RateLimit field, in the current draft's list form
// (`"default";r=5;t=30`, matched by name with RateLimit-Policy's
// `"default";q=100;w=60`) or the dictionary form of earlier drafts
// (`limit=100, remaining=5, reset=30`). With several policies, the one with
// the fewest requests remaining wins.
func (rl *RateLimit) parseIETF(h http.Header) bool {
	v := strings.Join(h.Values("Ratelimit"), ",")
	if v == "" || len(v) > maxAnnouncedField {
		return false
	}
	members := sfList(v)
	if dict := sfDict(members); dict != nil {
		return rl.fromDict(dict, h)
	}
	policies := sfList(strings.Join(h.Values("Ratelimit-Policy"), ","))
	found := false
	for _, m := range members {
		r, ok := parseCount(m.params["r"])
		if !ok || (found && r >= rl.Remaining) {
			continue
		}
		found = true
		rl.Remaining, rl.Reset, rl.Limit, rl.Window = r, 0, 0, 0
		if t, ok := parseNumber(m.params["t"]); ok {
			rl.Reset = boundWait(t * float64(time.Second))
		}
		rl.fromPolicy(policies, m.item)
	}
	return found
}

// fromPolicy takes the quota and window of the policy named name.
func (rl *RateLimit) fromPolicy(policies []sfMember, name string) {
	for _, p := range policies {
		if p.item != name {
			continue
		}
		rl.Limit, _ = parseCount(p.params["q"])
		if w, ok := parseNumber(p.params["w"]); ok {
			rl.Window = boundWait(w * float64(time.Second))
		}
		return
	}
}

// fromDict reads the dictionary form of earlier drafts.
func (rl *RateLimit) fromDict(d map[string]string, h http.Header) bool {
	rem, ok := parseCount(d["remaining"])
	if !ok {
		return false
	}
	rl.Remaining = rem
	rl.Limit, _ = parseCount(d["limit"])
	if t, ok := parseNumber(d["reset"]); ok {
		rl.Reset = boundWait(t * float64(time.Second))
	}
	if q, w, ok := legacyPolicy(h.Get("Ratelimit-Policy")); ok {
		rl.Limit, rl.Window = cmpOr(rl.Limit, q), w
	}
	return true
}

// legacyPolicy reads an earlier draft's RateLimit-Policy such as
// `100;w=60` (several policies: the first).
func legacyPolicy(v string) (int, time.Duration, bool) {
	if v == "" || len(v) > maxAnnouncedField {
		return 0, 0, false
	}
	ms := sfList(v)
	if len(ms) == 0 {
		return 0, 0, false
	}
	q, ok := parseCount(ms[0].item)
	w, _ := parseNumber(ms[0].params["w"])
	return q, boundWait(w * float64(time.Second)), ok
}

// sfMember is one member of a structured field list: its item (a string
// unquoted, or a token or number as is) and its parameters.
type sfMember struct {
	item   string
	params map[string]string
}

// maxSFMembers bounds how many list members and parameters are read.
const maxSFMembers = 16

// sfList splits a structured field list (RFC 9651) leniently: members at
// commas, parameters at semicolons, outside quoted strings. Members beyond
// maxSFMembers are ignored.
func sfList(v string) []sfMember {
	var out []sfMember
	for _, raw := range splitOutsideQuotes(v, ',') {
		if len(out) == maxSFMembers {
			break
		}
		parts := splitOutsideQuotes(raw, ';')
		m := sfMember{item: unquote(parts[0]), params: map[string]string{}}
		for _, p := range parts[1:min(len(parts), maxSFMembers)] {
			k, val, _ := strings.Cut(p, "=")
			m.params[strings.ToLower(strings.TrimSpace(k))] = unquote(val)
		}
		out = append(out, m)
	}
	return out
}

// sfDict reads members of the form key=value as a dictionary, or returns
// nil when a member is not.
func sfDict(ms []sfMember) map[string]string {
	d := map[string]string{}
	for _, m := range ms {
		k, v, ok := strings.Cut(m.item, "=")
		if !ok {
			return nil
		}
		d[strings.ToLower(strings.TrimSpace(k))] = unquote(v)
	}
	return d
}

// splitOutsideQuotes splits v at sep, except inside double quotes.
func splitOutsideQuotes(v string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// unquote trims v and removes the quotes of a structured field string.
func unquote(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if s, err := strconv.Unquote(v); err == nil {
			return s
		}
		return v[1 : len(v)-1]
	}
	return v
}

// ErrRateLimited is returned, wrapped with the cause, when occ will not wait
// for a host's rate limit: the wait the server asked for (or the reset of a
// window it announced as spent) outlasts the context's deadline, or the
// client's cap ([WithMaxRetryAfter]), or the request met more rate-limited
// answers than occ resends. The cause is the 429 or 503 answer (a
// [*StatusError]) or the context's error.
var ErrRateLimited = errors.New("occ: rate limited")
