package occ

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
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
	// KindDuplicate is a 409 saying a unique thing already exists, or a 412
	// answering a create-if-absent (If-None-Match: *). Never retried as-is.
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

// String returns the kind's lower-case name: "unknown", "version",
// "duplicate", "state", "busy" or "precondition required". An undefined Kind
// is "unknown".
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

// MarshalText returns the kind's [Kind.String] name, so that a
// [ConflictError] encodes as "Kind":"version" in JSON and logs. It never
// fails.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText sets k from a name [Kind.MarshalText] returns, in any case.
// It returns an error, leaving k unchanged, for any other text.
func (k *Kind) UnmarshalText(text []byte) error {
	name := strings.ToLower(strings.TrimSpace(string(text)))
	for c := KindUnknown; c <= KindPreconditionRequired; c++ {
		if c.String() == name {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("occ: unknown conflict kind %q", text)
}

// Sentinel errors. Every [*ConflictError] matches [ErrConflict] with
// [errors.Is]; a 412 also matches [ErrPreconditionFailed] and a 428
// [ErrPreconditionRequired].
var (
	ErrConflict             = errors.New("occ: conflict")
	ErrPreconditionFailed   = errors.New("occ: precondition failed")
	ErrPreconditionRequired = errors.New("occ: precondition required")
	// ErrAttemptsExhausted is returned, wrapped together with the last
	// conflict, when an operation made 10 retries without progress (busy
	// answers, or conflicts that found the version unchanged), or used the
	// writes [WithMaxAttempts] allows.
	ErrAttemptsExhausted = errors.New("occ: attempts exhausted")
)

// Sentinel errors for the kinds of conflict: a [*ConflictError] matches the
// one of its Kind with [errors.Is]. [KindPreconditionRequired] matches
// [ErrPreconditionRequired]; [KindUnknown] matches only [ErrConflict].
var (
	ErrVersionMismatch = errors.New("occ: version mismatch")
	ErrDuplicate       = errors.New("occ: duplicate")
	ErrInvalidState    = errors.New("occ: invalid state")
	ErrBusy            = errors.New("occ: busy")
)

// Err returns the sentinel error matched by conflicts of kind k, or
// [ErrConflict] for [KindUnknown].
func (k Kind) Err() error {
	switch k {
	case KindVersion:
		return ErrVersionMismatch
	case KindDuplicate:
		return ErrDuplicate
	case KindState:
		return ErrInvalidState
	case KindBusy:
		return ErrBusy
	case KindPreconditionRequired:
		return ErrPreconditionRequired
	default:
		return ErrConflict
	}
}

// ConflictError is a 409 Conflict, 412 Precondition Failed or 428
// Precondition Required answer, with what the server said about it. Create
// one with [ParseConflict]; a [Client] returns one from its operations.
//
// Every text field is valid UTF-8 on one line, without control or bidi
// characters, cut to a bounded length. The value of every header and secret
// query parameter the request carried (but the plain headers: Accept,
// Content-Type, preconditions, Idempotency-Key...) is replaced by REDACTED
// in the text fields, Body and Header (but the ETag, Last-Modified,
// Retry-After, Date, Location and Content-Location occ acts on),
// so that a server that repeats a credential cannot put it in a log. JSON
// encoding gives the safe fields only. The Error text is not contractual; match with [errors.Is] (against
// [ErrConflict], the status sentinels and the kind sentinels) and
// [errors.As]. A ConflictError is not modified after it is returned, so it
// may be read from several goroutines.
type ConflictError struct {
	StatusCode int    // the HTTP status: 409, 412 or 428 (or 422 to a failed JSON Patch test of the version field; see WriteJSONPatch)
	Kind       Kind   // what sort of conflict
	Code       string // the server's machine-readable code, if any
	Message    string // the server's human message, if any
	// Fields are the conflicting fields the server named: names such as
	// "email", or JSON Pointers such as "/data/attributes/email".
	Fields     []string
	Suggestion string // the server's advice, if any
	// CurrentVersion is the resource's current version: the answer's ETag
	// header (quotes and W/ kept, ready for If-Match), else a body member
	// such as current_version, currentVersion, _rev or
	// metadata.resourceVersion. An ETag on an error answer is taken only
	// when it can be the resource's: a strong tag (MinIO puts the object's
	// current tag on its 412s) that is not a hash of the error body itself, or a weak tag on an answer whose body
	// is the resource's representation (Current). A weak tag on an error
	// body describes that body (Express and Koa tag every answer they send,
	// PouchDB's 409s included) and is ignored, as is any tag equal to the
	// Express/Koa hash of the body. Header keeps the ETag as sent.
	CurrentVersion string
	// Current is the resource's current representation when the answer
	// carried it: a JSON body that is not an error, or a member named
	// current, current_state, currentValue and the like. Otherwise nil. An
	// error body is never taken for the representation: a body that a parser
	// recognised as an error format is never Current, nor is a JSON object
	// with a member named like an error (error, errors, errorMessages,
	// fault, exception, odata.error, ...) or a numeric status or code member
	// equal to the answer's status. A member found by its name is a guess
	// (a document may have a member named current of its own): occ plans a
	// retry on Current only when the answer's Content-Location names the
	// resource and Current is the whole body, or a [ConflictParser] of the
	// caller's set it; otherwise it reads the document again.
	Current json.RawMessage
	// Problem is the RFC 9457 problem object when the body was one
	// (application/problem+json or +xml, or a JSON body of that shape).
	Problem *Problem
	// DocumentationURL is a link the server gave to its documentation of
	// the error (GitHub documentation_url, Stripe doc_url), if any.
	DocumentationURL string
	// Method and URL are the request's; URL has its user info and fragment
	// removed and the values of secret query parameters replaced by
	// REDACTED (see [WithRedactedParams] for the list). Error and LogValue
	// redact URL again, so a hand-made error does not leak either.
	Method string
	URL    string
	// RequestID is the server's id for the request, from a header such as
	// X-Request-Id or from the body, if any.
	RequestID string
	// RetryAfter is the wait the server asked for in Retry-After, or 0.
	RetryAfter time.Duration
	// Header holds the answer's headers worth keeping, as sent: ETag,
	// Last-Modified, Retry-After, Location, Content-Location, Content-Type,
	// Date, the request ids and error-code headers (x-ms-error-code,
	// x-minio-error-code). Cookies and other headers are dropped. Header is
	// never part of the Error text or LogValue.
	Header http.Header
	// Body is the answer's body, read up to the client's limit (64 KiB by
	// default); BodyTruncated says whether more was left unread.
	Body          []byte
	BodyTruncated bool
	// Attempts is how many writes the operation made before this answer
	// ended it; 0 when the error did not come from an operation's loop.
	Attempts int
	// RateLimit is the rate limit the answer announced (see
	// [ParseRateLimit]), or nil.
	RateLimit *RateLimit

	hints         []string // extra codes a parser found, used to classify
	create        bool     // the answer is to a create-if-absent
	createKnown   bool     // create was decided by occ's parser
	statusMessage bool     // Message came from the status line's reason phrase
	currentKnown  bool     // Current was set by a caller's parser, which knows its API
}

// Error returns a one-line description such as
// "occ: PUT https://api.example.com/users/7: 409 conflict (duplicate) [email_taken]: email already exists; fields: email".
func (e *ConflictError) Error() string {
	var b strings.Builder
	b.WriteString("occ: ")
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, redactURLText(e.URL))
	}
	fmt.Fprintf(&b, "%d conflict (%s)", e.StatusCode, e.Kind)
	writeDetails(&b, e.Code, e.Message, e.Fields)
	if e.Attempts > 0 {
		fmt.Fprintf(&b, " after %d attempt(s)", e.Attempts)
	}
	return b.String()
}

// writeDetails appends " [code]: message; fields: a, b" for what is set.
func writeDetails(b *strings.Builder, code, msg string, fields []string) {
	if code != "" {
		fmt.Fprintf(b, " [%s]", code)
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if len(fields) > 0 {
		b.WriteString("; fields: ")
		b.WriteString(strings.Join(fields, ", "))
	}
}

// Is reports whether target is [ErrConflict], the sentinel of this error's
// status ([ErrPreconditionFailed], [ErrPreconditionRequired]) or the
// sentinel of its Kind (see [Kind.Err]).
func (e *ConflictError) Is(target error) bool {
	switch target {
	case ErrConflict:
		return true
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrPreconditionRequired:
		return e.StatusCode == http.StatusPreconditionRequired || e.Kind == KindPreconditionRequired
	}
	return e.Kind != KindUnknown && target == e.Kind.Err()
}

// Retryable reports whether refreshing (for a version conflict) or waiting
// (for a busy resource) and trying again can help.
func (e *ConflictError) Retryable() bool {
	return e.Kind == KindVersion || e.Kind == KindBusy
}

// Problem is an RFC 9457 (formerly RFC 7807) problem details object.
type Problem struct {
	Type     string // a URI reference naming the problem type; "about:blank" when absent
	Title    string // a short summary of the problem type
	Status   int    // the HTTP status the server put in the body, or 0
	Detail   string // an explanation of this occurrence
	Instance string // a URI reference naming this occurrence
	// Extensions are the other members, as raw JSON (from problem+xml,
	// each element's text as a JSON string).
	Extensions map[string]json.RawMessage
}

// StatusError is an answer that is neither a success nor a conflict, such as
// 400, 404, 422 or a 5xx that outlived its transient retries. It is never
// retried by the conflict loop. Its Code, Message, Fields and Problem are
// parsed from the body the same way as a [ConflictError]'s.
type StatusError struct {
	StatusCode int
	Method     string
	URL        string // user info removed, secret query values REDACTED (see [WithRedactedParams])
	Code       string // the server's machine-readable code, if any
	Message    string // the server's human message, if any
	Fields     []string
	Problem    *Problem // the RFC 9457 problem object, if the body was one
	RequestID  string
	RetryAfter time.Duration
	Header     http.Header // the headers worth keeping, as in ConflictError
	Body       []byte      // read up to the client's error-body limit
	// RateLimit is the rate limit the answer announced (see
	// [ParseRateLimit]), or nil.
	RateLimit *RateLimit
}

// Error returns a one-line description such as
// "occ: PUT https://api/x: 422 Unprocessable Entity [invalid]: name is required".
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "occ: %s %s: %d %s", e.Method, redactURLText(e.URL), e.StatusCode, http.StatusText(e.StatusCode))
	writeDetails(&b, e.Code, e.Message, e.Fields)
	return b.String()
}

// ParseConflict reads a 409, 412 or 428 answer into a [*ConflictError], and
// returns nil, leaving the body untouched, for any other status or a nil
// resp. It reads the body up to 64 KiB, drains a bounded remainder and
// closes it. It never fails: a body it cannot make sense of leaves the
// parsed fields empty. An answer to a request that carried If-None-Match: *
// (read from resp.Request) is classified as answering a create-if-absent.
// It is safe for concurrent use.
//
// Beware the typed-nil trap: returning its result as an error turns a nil
// *ConflictError into a non-nil error, so that
//
//	func check(r *http.Response) error { return occ.ParseConflict(r) } // wrong
//
// reports an error for a 200. Return [CheckConflict] instead, or test the
// pointer first:
//
//	if ce := occ.ParseConflict(resp); ce != nil {
//		return ce
//	}
//	return nil
func ParseConflict(resp *http.Response) *ConflictError {
	return parseConflict(resp, nil)
}

// CheckConflict is [ParseConflict] for callers that want an error: it
// returns a [*ConflictError] for a 409, 412 or 428 answer, and a nil error
// (not a typed nil) for any other status or a nil resp, leaving the body
// untouched. It is safe for concurrent use.
func CheckConflict(resp *http.Response) error {
	if ce := ParseConflict(resp); ce != nil {
		return ce
	}
	return nil
}

// isConflictStatus reports whether a status is one [ParseConflict] handles.
func isConflictStatus(code int) bool {
	return code == http.StatusConflict || code == http.StatusPreconditionFailed ||
		code == http.StatusPreconditionRequired
}

// parseConflict is ParseConflict with the client's settings (nil means the
// defaults). It consumes and closes resp.Body when it returns non-nil.
func parseConflict(resp *http.Response, s *errorSettings) *ConflictError {
	if resp == nil || !isConflictStatus(resp.StatusCode) {
		return nil
	}
	ce := readConflict(resp, s)
	ce.create, ce.createKnown = s.isCreate(resp), true
	ce.Kind = s.classify(resp, ce)
	scrubSecrets(ce, resp.Request, s.redactNames()) // once classified: a scrubbed word cannot change the kind
	return ce
}

// newStatusError reads any other error answer into a [*StatusError],
// reading, draining and closing the body the same bounded way.
func newStatusError(resp *http.Response, s *errorSettings) *StatusError {
	ce := readConflict(resp, s)
	scrubSecrets(ce, resp.Request, s.redactNames())
	return &StatusError{
		StatusCode: resp.StatusCode, Method: ce.Method, URL: ce.URL,
		Code: ce.Code, Message: ce.Message, Fields: ce.Fields, Problem: ce.Problem,
		RequestID: ce.RequestID, RetryAfter: ce.RetryAfter, Header: ce.Header, Body: ce.Body,
		RateLimit: ce.RateLimit,
	}
}
