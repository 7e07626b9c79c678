package occtest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem codes, served in the code extension member of problem+json bodies.
const (
	codeVersionConflict = "version_conflict"
	codeDuplicate       = "duplicate"
	codeInvalidState    = "invalid_state"
	codeInProgress      = "idempotency_in_progress"
	codeKeyMismatch     = "idempotency_key_mismatch"
	codeAlreadyExists   = "already_exists"
	codePrecondition    = "precondition_required"
	codeNotFound        = "not_found"
	codeBadRequest      = "invalid_request"
	codeInvalidPatch    = "invalid_patch"
	codeMediaType       = "unsupported_media_type"
	codeTooLarge        = "too_large"
	codeMethod          = "method_not_allowed"
)

// msgModified is the Kubernetes message for a stale resourceVersion.
const msgModified = "the object has been modified; please apply your changes to the latest version and try again"

// response is a complete answer, built under the lock and written after, so
// that it can be stored for idempotent replay or dropped by a fault.
type response struct {
	status int
	header http.Header
	body   []byte

	applied  bool // the request changed the store
	replayed bool // the answer is an idempotent replay
}

// clone returns a deep copy of resp's answer, neither applied nor replayed.
func (resp *response) clone() *response {
	return &response{status: resp.status, header: resp.header.Clone(), body: append([]byte(nil), resp.body...)}
}

// write sends resp to w; HEAD requests get the headers only.
func (resp *response) write(w http.ResponseWriter, r *http.Request) {
	for k, v := range resp.header {
		w.Header()[k] = append([]string(nil), v...)
	}
	if len(resp.body) > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// sentHeader is a copy of the headers that write sends.
func (resp *response) sentHeader() http.Header {
	h := resp.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(resp.body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	return h
}

// cut says how a Truncate fault sends resp: the Content-Length it claims
// and how many bytes of the body it sends; ok is false for an answer
// without a body, which is cut before its status line.
func (resp *response) cut(r *http.Request, claim int64) (length int64, n int, ok bool) {
	noBody := resp.status < 200 || resp.status == http.StatusNoContent || resp.status == http.StatusNotModified
	if r.Method == http.MethodHead || noBody || (len(resp.body) == 0 && claim == 0) {
		return 0, 0, false
	}
	length, n = int64(len(resp.body)), len(resp.body)/2
	if claim > 0 {
		length, n = claim, int(min(int64(len(resp.body)), claim-1))
	}
	return length, n, true
}

// truncated is what a Truncate fault sends of resp, for the request log:
// its status and headers with the claimed length, or nil if nothing.
func (resp *response) truncated(r *http.Request, claim int64) *response {
	length, _, ok := resp.cut(r, claim)
	if !ok {
		return nil
	}
	h := resp.header.Clone()
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	return &response{status: resp.status, header: h}
}

// writeTruncated sends resp cut as a Truncate fault does, and aborts the
// connection.
func (resp *response) writeTruncated(w http.ResponseWriter, r *http.Request, claim int64) {
	length, n, ok := resp.cut(r, claim)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.header {
		w.Header()[k] = append([]string(nil), v...)
	}
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body[:n])
	_ = http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

// problem is an RFC 9457 problem details object with occtest's extensions.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Code     string         `json:"code"`
	Errors   []problemField `json:"errors,omitempty"`
	Existing string         `json:"existing,omitempty"`
}

// problemField names one offending member of the request document.
type problemField struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// problemResponse builds an application/problem+json answer.
func problemResponse(status int, code, detail string, fields ...problemField) *response {
	return problemOf(problem{Status: status, Code: code, Detail: detail, Errors: fields})
}

// problemOf fills in type and title and encodes p.
func problemOf(p problem) *response {
	p.Type = "urn:occtest:problem:" + p.Code
	p.Title = http.StatusText(p.Status)
	body, _ := json.Marshal(p) // cannot fail: strings and ints only
	h := http.Header{}
	h.Set("Content-Type", "application/problem+json")
	return &response{status: p.Status, header: h, body: body}
}

// docResponse answers with the document of r and its validators.
func (s *Store) docResponse(status int, r *resource) *response {
	h := s.validators(r)
	h.Set("Content-Type", "application/json")
	return &response{status: status, header: h, body: append([]byte(nil), r.raw...)}
}
