package occ

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ConflictParser reads an error answer's body into the fields of e: Code,
// Message, Fields, Suggestion, CurrentVersion, Current, Problem,
// DocumentationURL, RequestID and, as a hint for 409s, Kind. It returns
// whether it recognised the body; the first parser that does ends the
// search, and the built-in parsers come last.
//
// resp.Body has already been read and closed: use body, which holds at most
// the client's error-body limit. e arrives with StatusCode, Method, URL,
// Header, Body and BodyTruncated set. Afterwards, text fields are sanitised
// (valid UTF-8, one line, bounded length); the ETag header overrides
// CurrentVersion when it can be the resource's version (see
// [ConflictError].CurrentVersion); an x-ms-error-code header fills an empty
// Code; and a reason phrase other than the standard one fills an empty
// Message. Parsers are also used for the bodies of [StatusError]s.
// Implementations must be safe for concurrent use and must not keep resp,
// body or e.
type ConflictParser interface {
	Parse(resp *http.Response, body []byte, e *ConflictError) bool
}

// ConflictParserFunc adapts a function to a [ConflictParser].
type ConflictParserFunc func(resp *http.Response, body []byte, e *ConflictError) bool

// Parse calls f.
func (f ConflictParserFunc) Parse(resp *http.Response, body []byte, e *ConflictError) bool {
	return f(resp, body, e)
}

var _ ConflictParser = ConflictParserFunc(nil)

// DefaultConflictParser returns the built-in parser: it detects the format
// by Content-Type first, then by the body's shape, and understands RFC 9457
// problem+json and problem+xml, JSON:API, Google and Azure {"error":{...}},
// OData errors (v2/v3 {"odata.error"} and {"error"} with a
// {"lang","value"} message, v4), Kubernetes Status, CouchDB and PouchDB,
// GitHub, Stripe, Elasticsearch (error.root_cause, and the failures of a
// by-query answer), Spring Boot's default error body, MongoDB Atlas, Jira
// and Confluence, Apigee faults, flat {"error","message",...} objects,
// Azure Storage and S3 XML, WebDAV precondition elements (RFC 4918 section
// 16: the element's name is the Code), HTML and plain text. It always
// returns true for a non-empty body. It is safe for concurrent use.
func DefaultConflictParser() ConflictParser {
	return ConflictParserFunc(parseBuiltin)
}

// defaultMaxErrorBody is how much of an error body is read by default.
const defaultMaxErrorBody = 64 << 10

// maxDrain bounds how much of an unread body is discarded so that the
// connection can be reused; past it the connection is simply closed.
const maxDrain = 256 << 10

// errorSettings is how a client reads error answers. The zero value, and a
// nil pointer, mean the defaults.
type errorSettings struct {
	maxBody     int64
	parsers     []ConflictParser
	classifiers []Classifier
	redact      []string   // extra secret parameter names, normalised (see WithRedactedParams)
	create      createMark // whether the answer is to a create-if-absent
}

// createMark says how the parser learns whether an answer is to a
// create-if-absent.
type createMark uint8

const (
	// createFromRequest reads If-None-Match: * from resp.Request, as
	// ParseConflict documents.
	createFromRequest createMark = iota
	// createYes and createNo are what one of the library's own call sites
	// knows of the request it built, which a RoundTripper may have rewritten
	// before resp.Request was set.
	createYes
	createNo
)

// answering returns a copy of s (the defaults when nil) that classifies
// answers as answering a create-if-absent or not, whatever resp.Request
// says.
func (s *errorSettings) answering(create bool) *errorSettings {
	var cp errorSettings
	if s != nil {
		cp = *s
	}
	cp.create = createNo
	if create {
		cp.create = createYes
	}
	return &cp
}

// isCreate reports whether resp answers a create-if-absent.
func (s *errorSettings) isCreate(resp *http.Response) bool {
	if s != nil && s.create != createFromRequest {
		return s.create == createYes
	}
	return isCreateIfAbsent(resp.Request)
}

// redactURL is [redactURL] with the caller's extra secret parameter names
// (see [WithRedactedParams]). A nil s redacts by the default list only.
func (s *errorSettings) redactURL(u *url.URL) string {
	if s == nil {
		return redactURLWith(u, nil)
	}
	return redactURLWith(u, s.redact)
}

// redactNames returns the caller's extra secret parameter names.
func (s *errorSettings) redactNames() []string {
	if s == nil {
		return nil
	}
	return s.redact
}

// limit returns the body limit, defaulting to 64 KiB.
func (s *errorSettings) limit() int64 {
	if s == nil || s.maxBody <= 0 {
		return defaultMaxErrorBody
	}
	return s.maxBody
}

// parse tries the caller's parsers in order, then the built-in one.
func (s *errorSettings) parse(resp *http.Response, body []byte, e *ConflictError) {
	if s != nil {
		for _, p := range s.parsers {
			if p.Parse(resp, body, e) {
				e.currentKnown = len(e.Current) > 0 // the caller's parser knows its API
				return
			}
		}
	}
	parseBuiltin(resp, body, e)
}

// redactURLText is [redactURLText] with the caller's extra secret parameter
// names, for URLs held as text, such as a *url.Error's URL.
func (s *errorSettings) redactURLText(raw string) string {
	if s == nil {
		return redactURLTextWith(raw, nil)
	}
	return redactURLTextWith(raw, s.redact)
}

// readConflict reads resp (its body bounded, drained and closed) into a
// ConflictError with every field but Kind.
func readConflict(resp *http.Response, s *errorSettings) *ConflictError {
	body, truncated := readBody(resp.Body, s.limit())
	e := &ConflictError{
		StatusCode: resp.StatusCode, Header: keepHeaders(resp.Header),
		Body: body, BodyTruncated: truncated,
	}
	if resp.Request != nil {
		e.Method, e.URL = resp.Request.Method, s.redactURL(resp.Request.URL)
	}
	s.parse(resp, body, e)
	finish(resp, e)
	return e
}

// readBody reads up to limit bytes of body, drains a bounded remainder and
// closes it. It reports whether bytes were left beyond the limit. A read
// error ends the read; what was read is kept.
func readBody(body io.ReadCloser, limit int64) ([]byte, bool) {
	if body == nil || body == http.NoBody {
		return nil, false
	}
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, limit+1))
	truncated := int64(len(b)) > limit
	if truncated {
		b = b[:limit:limit]
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	return b, truncated
}

// bodyFormat is a body syntax the built-in parser knows.
type bodyFormat int

const (
	fmtNone bodyFormat = iota
	fmtJSON
	fmtProblemJSON
	fmtXML
	fmtHTML
)

// parseBuiltin is the built-in [ConflictParser]: the declared format first,
// then the sniffed one, then plain text.
func parseBuiltin(resp *http.Response, body []byte, e *ConflictError) bool {
	b := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return false
	}
	declared := declaredFormat(resp.Header.Get("Content-Type"))
	if declared != fmtNone && parseFormat(declared, b, e) {
		return true
	}
	if sniffed := sniffFormat(b); sniffed != declared && parseFormat(sniffed, b, e) {
		return true
	}
	parseText(b, e)
	return true
}

// parseFormat parses b as format f, reporting success.
func parseFormat(f bodyFormat, b []byte, e *ConflictError) bool {
	switch f {
	case fmtJSON, fmtProblemJSON:
		return parseJSON(b, e, f == fmtProblemJSON)
	case fmtXML:
		return parseXML(b, e)
	case fmtHTML:
		return parseHTML(b, e)
	}
	return false
}

// declaredFormat maps a Content-Type to a format; fmtNone for text and
// anything unknown.
func declaredFormat(ct string) bodyFormat {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	switch {
	case mt == "application/problem+json":
		return fmtProblemJSON
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return fmtJSON
	case mt == "text/html" || mt == "application/xhtml+xml":
		return fmtHTML
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return fmtXML
	}
	return fmtNone
}

// sniffFormat guesses a format from the body's first bytes.
func sniffFormat(b []byte) bodyFormat {
	switch b[0] {
	case '{', '[':
		return fmtJSON
	case '<':
		head := strings.ToLower(string(b[:min(len(b), 512)]))
		if strings.Contains(head, "<html") || strings.HasPrefix(head, "<!doctype html") {
			return fmtHTML
		}
		return fmtXML
	}
	return fmtNone
}

// keptHeaders are the answer headers a ConflictError keeps.
var keptHeaders = []string{
	"Etag", "Last-Modified", "Retry-After", "Location", "Content-Location",
	"Content-Type", "Date", "X-Ms-Error-Code", "X-Minio-Error-Code", "X-Minio-Error-Desc",
}

// requestIDHeaders are the headers servers put their request ids in, in
// order of preference.
var requestIDHeaders = []string{
	"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Ms-Request-Id",
	"X-Amzn-Requestid", "X-Amz-Request-Id", "X-Github-Request-Id",
	"X-Couch-Request-Id", "Audit-Id", "X-Cloud-Trace-Context", "Traceparent",
}

// keepHeaders copies the headers worth keeping, dropping cookies and the
// rest.
func keepHeaders(h http.Header) http.Header {
	out := make(http.Header)
	for _, set := range [][]string{keptHeaders, requestIDHeaders} {
		for _, k := range set {
			if v := h.Values(k); len(v) > 0 {
				out[k] = slices.Clone(v)
			}
		}
	}
	return out
}
