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
}

// clone returns a deep copy of resp.
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
