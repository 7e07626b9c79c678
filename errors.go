package occ

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Kind says what sort of conflict a server reported, and so what a client can
// do about it.
type Kind int

// The kinds of conflict occ recognises.
const (
	// KindUnknown is a 409 whose body did not say which kind it is. It is not
	// retried blindly.
	KindUnknown Kind = iota
	// KindVersion is a stale version: 412 Precondition Failed, or a 409 that
	// says the resource was modified. Refresh, reapply and resubmit.
	KindVersion
	// KindDuplicate is a 409 saying a unique thing already exists. Never
	// retried as-is.
	KindDuplicate
	// KindState is a 409 saying the resource's state forbids the operation.
	// Never retried as-is.
	KindState
	// KindBusy is a 409 saying another operation holds the resource, or that
	// the same Idempotency-Key is still being processed. Retried unchanged
	// after a backoff.
	KindBusy
	// KindPreconditionRequired is 428 Precondition Required: the server wants
	// a conditional request.
	KindPreconditionRequired
)

// String returns the kind's lower-case name, such as "version".
func (k Kind) String() string {
	switch k {
	case KindVersion:
		return "version"
	case KindDuplicate:
		return "duplicate"
	case KindState:
		return "state"
	case KindBusy:
		return "busy"
	case KindPreconditionRequired:
		return "precondition required"
	default:
		return "unknown"
	}
}

// Sentinel errors. Every [*ConflictError] matches [ErrConflict] with
// [errors.Is]; a 412 also matches [ErrPreconditionFailed] and a 428
// [ErrPreconditionRequired].
var (
	ErrConflict             = errors.New("occ: conflict")
	ErrPreconditionFailed   = errors.New("occ: precondition failed")
	ErrPreconditionRequired = errors.New("occ: precondition required")
	// ErrAttemptsExhausted is returned, wrapped together with the last
	// conflict, when every allowed attempt met a retryable conflict.
	ErrAttemptsExhausted = errors.New("occ: attempts exhausted")
)

// ConflictError is a 409 Conflict, 412 Precondition Failed or 428
// Precondition Required answer, with what the server said about it.
//
// The Error text is not contractual; match with [errors.Is] and [errors.As].
type ConflictError struct {
	StatusCode     int      // the HTTP status: 409, 412 or 428
	Kind           Kind     // what sort of conflict
	Code           string   // the server's machine-readable code, if any
	Message        string   // the server's human message, if any
	Fields         []string // conflicting fields or JSON Pointers, if named
	Suggestion     string   // the server's advice, if any
	CurrentVersion string   // the resource's current version, if the answer carried it
	// Current is the resource's current representation when the answer
	// carried it, or nil.
	Current []byte
	// Header holds the answer's headers.
	Header http.Header
	// Body is the answer's body, read up to the client's limit.
	Body []byte
	// Attempts is how many writes the operation made before this answer
	// ended it; 0 when the error did not come from an operation's loop.
	Attempts int
}

// Error returns a one-line description such as
// "occ: 409 conflict (duplicate): email already exists".
func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "occ: %d conflict (%s)", e.StatusCode, e.Kind)
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 0 {
		fmt.Fprintf(&b, " after %d attempt(s)", e.Attempts)
	}
	return b.String()
}

// Is reports whether target is [ErrConflict], or the sentinel of this error's
// status.
func (e *ConflictError) Is(target error) bool {
	switch target {
	case ErrConflict:
		return true
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrPreconditionRequired:
		return e.StatusCode == http.StatusPreconditionRequired
	}
	return false
}

// Retryable reports whether refreshing (for a version conflict) or waiting
// (for a busy resource) and trying again can help.
func (e *ConflictError) Retryable() bool {
	return e.Kind == KindVersion || e.Kind == KindBusy
}

// defaultMaxErrorBody is how much of an error body is read by default.
const defaultMaxErrorBody = 64 << 10

// errorSettings is how a client reads error answers.
type errorSettings struct {
	maxBody int64
}

// ParseConflict reads a 409, 412 or 428 answer into a [*ConflictError], and
// returns nil for any other status. It reads the body up to 64 KiB, drains a
// bounded remainder and closes it.
func ParseConflict(resp *http.Response) *ConflictError {
	return parseConflict(resp, &errorSettings{maxBody: defaultMaxErrorBody})
}

// isConflictStatus reports whether a status is one [ParseConflict] handles.
func isConflictStatus(code int) bool {
	return code == http.StatusConflict || code == http.StatusPreconditionFailed ||
		code == http.StatusPreconditionRequired
}

// parseConflict is ParseConflict with the client's settings. It consumes and
// closes resp.Body when it returns non-nil.
func parseConflict(resp *http.Response, s *errorSettings) *ConflictError {
	if resp == nil || !isConflictStatus(resp.StatusCode) {
		return nil
	}
	body := readBody(resp.Body, s.maxBody)
	ce := &ConflictError{StatusCode: resp.StatusCode, Header: resp.Header.Clone(), Body: body}
	ce.CurrentVersion = resp.Header.Get("ETag")
	ce.Kind = classify(resp.StatusCode, string(body))
	ce.Message = firstLine(string(body))
	return ce
}

// classify is the first-cut classifier: status, then keywords.
func classify(status int, body string) Kind {
	switch status {
	case http.StatusPreconditionFailed:
		return KindVersion
	case http.StatusPreconditionRequired:
		return KindPreconditionRequired
	}
	b := strings.ToLower(body)
	switch {
	case containsAny(b, "already exists", "duplicate", "unique", "taken"):
		return KindDuplicate
	case containsAny(b, "in progress", "locked", "busy"):
		return KindBusy
	case containsAny(b, "modified", "version", "revision", "stale"):
		return KindVersion
	case containsAny(b, "state", "transition"):
		return KindState
	}
	return KindUnknown
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// maxDrain bounds how much of an unread body is discarded so that the
// connection can be reused; past it the connection is simply closed.
const maxDrain = 256 << 10

// readBody reads up to limit bytes of body, drains a bounded remainder and
// closes it. A read error ends the read; what was read is kept.
func readBody(body io.ReadCloser, limit int64) []byte {
	if body == nil {
		return nil
	}
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, limit))
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	return b
}

// StatusError is an answer that is neither a success nor a conflict, such as
// 400, 404, 422 or a 5xx that outlived its transient retries. It is never
// retried by the conflict loop.
type StatusError struct {
	StatusCode int
	Method     string
	URL        string // redacted: no user info, no query
	Header     http.Header
	Body       []byte // read up to the client's error-body limit
}

// Error returns a one-line description such as "occ: PUT https://api/x: 422".
func (e *StatusError) Error() string {
	return fmt.Sprintf("occ: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}
