package occ

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadResponse reads testdata/errors/name, a raw HTTP response, as the answer
// to req.
func loadResponse(t testing.TB, name string, req *http.Request) *http.Response {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "errors", name))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), req)
	require.NoError(t, err)
	return resp
}

// newRequest builds a request with header pairs.
func newRequest(t testing.TB, method, url string, kv ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	return req
}

// want is what a testdata file must parse into.
type want struct {
	status         int
	kind           Kind
	code           string
	message        string
	fields         []string
	suggestion     string
	currentVersion string
	current        string // JSON; "" for nil
	problem        *Problem
	extensions     []string // the problem's extension member names, sorted
	docURL         string
	requestID      string
	retryAfter     time.Duration
}

const docURL = "https://api.example.com/documents/42"

var conflictCases = []struct {
	file string
	req  []string // method, url, header pairs
	url  string   // the redacted URL expected; "" means req[1]
	want want
}{
	{"problem_json_version.http", []string{"PUT", docURL, "If-Match", `"v7"`}, "", want{
		status: 409, kind: KindVersion, code: "https://api.example.com/problems/version-conflict",
		message:        "The document was modified by another writer since version 7.",
		currentVersion: `"v8"`, current: `{"id": 42, "title": "Quarterly report", "version": 8}`,
		problem: &Problem{Type: "https://api.example.com/problems/version-conflict", Title: "Version conflict",
			Status: 409, Detail: "The document was modified by another writer since version 7.",
			Instance: "/documents/42/changes/9f1c"},
		extensions: []string{"current", "current_version"}, requestID: "req-problem-1",
	}},
	{"problem_json_duplicate.http", []string{"POST", "https://ada:pw@api.example.com/users?access_token=t0k&team=7"},
		"https://api.example.com/users?access_token=REDACTED&team=7", want{
			status: 409, kind: KindDuplicate, code: "email_taken",
			message: "A user with the email ada@example.com already exists.", fields: []string{"email"},
			suggestion: "Sign in to the existing account or use another email.",
			problem: &Problem{Type: "https://api.example.com/problems/duplicate", Title: "Resource already exists",
				Status: 409, Detail: "A user with the email ada@example.com already exists.", Instance: "/users"},
			extensions: []string{"code", "invalid-params", "suggestion"},
		}},
	{"problem_json_idempotency_busy.http", []string{"POST", "https://api.example.com/payments", "Idempotency-Key", `"8e03978e"`}, "", want{
		status: 409, kind: KindBusy, code: "https://developer.example.com/idempotency",
		message: "A request with the same Idempotency-Key for the same operation is being processed or is outstanding.",
		problem: &Problem{Type: "https://developer.example.com/idempotency", Title: "A request is outstanding for this Idempotency-Key",
			Detail: "A request with the same Idempotency-Key for the same operation is being processed or is outstanding."},
		retryAfter: 2 * time.Second,
	}},
	{"problem_json_precondition_required.http", []string{"PUT", docURL}, "", want{
		status: 428, kind: KindPreconditionRequired, code: "https://api.example.com/problems/precondition-required",
		message: "Updates to this resource must be conditional: send If-Match with the current ETag.",
		problem: &Problem{Type: "https://api.example.com/problems/precondition-required", Title: "Precondition Required",
			Status: 428, Detail: "Updates to this resource must be conditional: send If-Match with the current ETag."},
	}},
	{"problem_xml_state.http", []string{"POST", "https://shop.example.com/orders/1234/cancel"}, "", want{
		status: 409, kind: KindState, code: "https://shop.example.com/problems/invalid-state-transition",
		message: "Order 1234 has shipped and cannot transition to cancelled.", fields: []string{"status"},
		problem: &Problem{Type: "https://shop.example.com/problems/invalid-state-transition", Title: "Invalid state transition",
			Status: 409, Detail: "Order 1234 has shipped and cannot transition to cancelled.", Instance: "/orders/1234"},
		extensions: []string{"currentState", "field"},
	}},
	{"jsonapi_duplicate.http", []string{"POST", "https://blog.example.com/articles"}, "", want{
		status: 409, kind: KindDuplicate, code: "taken",
		message: "The slug 'hello-world' is already used by article 17.", fields: []string{"/data/attributes/slug"},
	}},
	{"jsonapi_state.http", []string{"PATCH", "https://app.example.com/invitations/5"}, "", want{
		status: 409, kind: KindState, code: "invalid_state", message: "Invitation has already been accepted.",
		fields: []string{"/data/attributes/state"}, current: `"accepted"`,
	}},
	{"google_aborted_version.http", []string{"POST", "https://cloudresourcemanager.googleapis.com/v3/projects/demo:setIamPolicy?key=AIzaSy123"},
		"https://cloudresourcemanager.googleapis.com/v3/projects/demo:setIamPolicy?key=REDACTED", want{
			status: 409, kind: KindVersion, code: "ABORTED",
			message:   "Concurrent policy changes: the etag provided does not match the current policy.",
			requestID: "105445aa7843bc8bf206b12000100000/1",
		}},
	{"google_already_exists.http", []string{"PUT", "https://pubsub.googleapis.com/v1/projects/demo/topics/orders"}, "", want{
		status: 409, kind: KindDuplicate, code: "ALREADY_EXISTS",
		message: "Resource 'projects/demo/topics/orders' already exists", fields: []string{"name"},
	}},
	{"google_failed_precondition_state.http", []string{"POST", "https://compute.googleapis.com/instances/vm-1/setMachineType"}, "", want{
		status: 409, kind: KindState, code: "FAILED_PRECONDITION",
		message: "The instance is stopped; start it before changing its machine type.",
	}},
	{"google_v1_412_condition_not_met.http", []string{"PUT", "https://storage.googleapis.com/upload/b/o?uploadType=media&X-Goog-Signature=abc"},
		"https://storage.googleapis.com/upload/b/o?uploadType=media&X-Goog-Signature=REDACTED", want{
			status: 412, kind: KindVersion, code: "conditionNotMet",
			message:        "At least one of the pre-conditions you specified did not hold.",
			currentVersion: "CJq3hY6n7vgCEAU=",
		}},
	{"azure_another_operation_busy.http", []string{"PUT", "https://management.azure.com/vm-1"}, "", want{
		status: 409, kind: KindBusy, code: "AnotherOperationInProgress",
		message: "Operation 'update' is not allowed since another operation is in progress on resource 'vm-1'.",
		fields:  []string{"vm-1"}, requestID: "6f3c4c1e-2a1b-4a8e-9a0e-1c2d3e4f5a6b", retryAfter: 30 * time.Second,
	}},
	{"azure_innererror_duplicate.http", []string{"POST", "https://graph.example.com/groups"}, "", want{
		status: 409, kind: KindDuplicate, code: "Conflict",
		message: "The request conflicts with an existing entity.", fields: []string{"displayName"},
	}},
	{"k8s_conflict.http", []string{"PUT", "https://k8s.example.com/apis/apps/v1/namespaces/default/deployments/web"}, "", want{
		status: 409, kind: KindVersion, code: "Conflict",
		message:   `Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again`,
		requestID: "2c5c9f83-0c51-4d7e-bf5b-0a6d5b1e1a11",
	}},
	{"k8s_already_exists.http", []string{"POST", "https://k8s.example.com/api/v1/namespaces/default/configmaps"}, "", want{
		status: 409, kind: KindDuplicate, code: "AlreadyExists", message: `configmaps "settings" already exists`,
		fields: []string{"metadata.name"},
	}},
	{"couchdb_conflict.http", []string{"PUT", "http://admin:secret@couch.example.com:5984/db/doc1?rev=1-abc"},
		"http://couch.example.com:5984/db/doc1?rev=1-abc", want{
			status: 409, kind: KindVersion, code: "conflict", message: "Document update conflict.", requestID: "8c3e4a1b2f",
		}},
	{"github_409_sha_mismatch.http", []string{"PUT", "https://api.github.com/repos/o/r/contents/README.md"}, "", want{
		status: 409, kind: KindVersion, message: "README.md does not match 3d21ec53a331a6f037a91c368710b99387d012c1",
		docURL:    "https://docs.github.com/rest/repos/contents#create-or-update-file-contents",
		requestID: "C0DE:1F2E:3A4B5C:6D7E8F:65A1B2C3",
	}},
	{"github_409_already_exists.http", []string{"POST", "https://api.github.com/repos/o/r/labels"}, "", want{
		status: 409, kind: KindDuplicate, code: "already_exists", message: "Validation Failed", fields: []string{"name"},
		docURL: "https://docs.github.com/rest/issues/labels#create-a-label",
	}},
	{"stripe_idempotency_busy.http", []string{"POST", "https://api.stripe.com/v1/charges", "Idempotency-Key", "8d1f"}, "", want{
		status: 409, kind: KindBusy, code: "idempotency_key_in_use",
		message: "There is currently another in-progress request using this Stripe-Idempotency-Key (that probably means you submitted twice, and the other request is still going through): 8d1f. Please try again later.",
		docURL:  "https://stripe.com/docs/error-codes/idempotency-key-in-use", requestID: "req_3fa9Ka7bQ1xYz",
	}},
	{"flat_duplicate.http", []string{"POST", "https://app.example.com/signup"}, "", want{
		status: 409, kind: KindDuplicate, code: "conflict", message: "Username already exists",
		fields: []string{"username"}, suggestion: "Try a different username or sign in to existing account",
	}},
	{"flat_version.http", []string{"PUT", "https://app.example.com/widgets/a1"}, "", want{
		status: 409, kind: KindVersion, code: "VERSION_CONFLICT", message: "Version 3 is stale.",
		fields: []string{"version"}, currentVersion: "4", current: `{"id": "a1", "name": "Widget", "version": 4}`,
	}},
	{"flat_state.http", []string{"POST", "https://shop.example.com/orders/9/cancel"}, "", want{
		status: 409, kind: KindState, code: "invalid_state", message: "Cannot cancel an order that has shipped.",
		fields: []string{"status"}, current: `"shipped"`, suggestion: "Request a return instead.",
	}},
	{"flat_locked.http", []string{"PATCH", "https://app.example.com/accounts/3"}, "", want{
		status: 409, kind: KindBusy, code: "RESOURCE_LOCKED", message: "The account is locked by a running export.",
		requestID: "0f9e8d7c", retryAfter: 5 * time.Second,
	}},
	{"azure_storage_lease_busy.http", []string{"PUT", "https://acct.blob.core.windows.net/c/b?sv=2023&sig=abc%3D&se=2030"},
		"https://acct.blob.core.windows.net/c/b?sv=2023&sig=REDACTED&se=2030", want{
			status: 409, kind: KindBusy, code: "LeaseAlreadyPresent", message: "There is already a lease present.",
			requestID: "44a1b2c3-501e-0045-3a2b-1c0d2e000000",
		}},
	{"azure_storage_blob_exists.http", []string{"PUT", "https://acct.blob.core.windows.net/c/b"}, "", want{
		status: 409, kind: KindDuplicate, code: "BlobAlreadyExists", message: "The specified blob already exists.",
		requestID: "7d2e3f40-a01e-0062-1b2c-3d4e5f000000",
	}},
	{"azure_storage_412_condition_not_met.http", []string{"PUT", "https://acct.blob.core.windows.net/c/b", "If-Match", `"0x1"`}, "", want{
		status: 412, kind: KindVersion, code: "ConditionNotMet",
		message:        "The condition specified using HTTP conditional header(s) is not met.",
		currentVersion: `"0x8DC6D1B2C3D4E5F"`, requestID: "1a2b3c4d-e01e-0000-0000-000000000000",
	}},
	{"html_frozen_state.http", []string{"POST", "http://www.example.re/blog/update?postid=111&flag=like"}, "", want{
		status: 409, kind: KindState,
		message: "Blog Entry Frozen: This post has been marked read-only. To post a reply or tag, change the status and try again.",
	}},
	{"text_locked_busy.http", []string{"DELETE", "https://app.example.com/jobs/1"}, "", want{
		status: 409, kind: KindBusy, message: "Resource is busy: another operation holds it.",
	}},
	{"text_unknown.http", []string{"PUT", "https://app.example.com/x"}, "", want{
		status: 409, kind: KindUnknown, message: "Conflict",
	}},
	{"resource_412_current.http", []string{"PUT", "https://docs.example.com/doc-1", "If-Match", `W/"16"`}, "", want{
		status: 412, kind: KindVersion, currentVersion: `W/"17"`,
		current: `{"id": "doc-1", "title": "Roadmap", "_rev": "17-a1b2c3", "body": "current text"}`,
	}},
	{"create_if_absent_412.http", []string{"PUT", "https://app.example.com/slugs/hello", "If-None-Match", "*"}, "", want{
		status: 412, kind: KindDuplicate, currentVersion: `"e1"`, current: `{"id": "hello", "owner": "u9"}`,
	}},
	{"empty_409.http", []string{"PUT", "https://app.example.com/x"}, "", want{status: 409, kind: KindUnknown}},
	{"mislabelled_json_html.http", []string{"POST", "https://app.example.com/users"}, "", want{
		status: 409, kind: KindDuplicate, message: "409 Conflict: Duplicate entry 'ada' for key 'users.name'",
	}},
	{"truncated_json.http", []string{"PUT", "https://app.example.com/x"}, "", want{
		status: 409, kind: KindVersion, message: `{"error": "conflict", "message": "version mism`,
	}},
}

func TestParseConflictTestdata(t *testing.T) {
	t.Parallel()
	for _, tc := range conflictCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, tc.req[0], tc.req[1], tc.req[2:]...)
			resp := loadResponse(t, tc.file, req)
			ce := parseConflict(resp, nil)
			require.NotNil(t, ce)
			wantURL := tc.url
			if wantURL == "" {
				wantURL = tc.req[1]
			}
			assert.Equal(t, tc.req[0], ce.Method)
			assert.Equal(t, wantURL, ce.URL)
			assertParsed(t, tc.want, ce)
		})
	}
}

// assertParsed checks every parsed field of ce against w.
func assertParsed(t *testing.T, w want, ce *ConflictError) {
	t.Helper()
	assert.Equal(t, w.status, ce.StatusCode, "status")
	assert.Equal(t, w.kind, ce.Kind, "kind")
	assert.Equal(t, w.code, ce.Code, "code")
	assert.Equal(t, w.message, ce.Message, "message")
	assert.Equal(t, w.fields, ce.Fields, "fields")
	assert.Equal(t, w.suggestion, ce.Suggestion, "suggestion")
	assert.Equal(t, w.currentVersion, ce.CurrentVersion, "current version")
	assert.Equal(t, w.docURL, ce.DocumentationURL, "documentation url")
	assert.Equal(t, w.requestID, ce.RequestID, "request id")
	assert.Equal(t, w.retryAfter, ce.RetryAfter, "retry after")
	if w.current == "" {
		assert.Nil(t, ce.Current, "current")
	} else {
		assert.JSONEq(t, w.current, string(ce.Current), "current")
	}
	assertProblem(t, w.problem, w.extensions, ce.Problem)
	assert.Equal(t, w.kind == KindVersion || w.kind == KindBusy, ce.Retryable(), "retryable")
	assert.ErrorIs(t, ce, ErrConflict)
	assert.ErrorIs(t, ce, w.kind.Err())
}

// assertProblem compares a problem's members and extension names.
func assertProblem(t *testing.T, want *Problem, extensions []string, got *Problem) {
	t.Helper()
	if want == nil {
		assert.Nil(t, got, "problem")
		return
	}
	require.NotNil(t, got, "problem")
	var names []string
	for k := range got.Extensions {
		names = append(names, k)
	}
	slices.Sort(names)
	assert.Equal(t, extensions, names, "extensions")
	cp := *got
	cp.Extensions = nil
	assert.Equal(t, *want, cp, "problem")
}

func TestParseConflictLeavesOtherStatusesAlone(t *testing.T) {
	t.Parallel()
	assert.Nil(t, ParseConflict(nil))
	for _, status := range []int{200, 201, 304, 400, 404, 422, 429, 500, 503} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			body := &spyBody{r: strings.NewReader(`{"message":"x"}`)}
			ce := ParseConflict(&http.Response{StatusCode: status, Header: http.Header{}, Body: body})
			assert.Nil(t, ce)
			assert.Zero(t, body.n, "bytes read")
			assert.False(t, body.closed, "closed")
		})
	}
}

// spyBody is a response body that counts what is read and whether it was
// closed.
type spyBody struct {
	r      io.Reader
	n      int64
	closed bool
}

func (b *spyBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *spyBody) Close() error { b.closed = true; return nil }

func TestParseConflictClosesBody(t *testing.T) {
	t.Parallel()
	body := &spyBody{r: strings.NewReader(`{"error":"conflict","message":"Username already exists"}`)}
	ce := ParseConflict(&http.Response{StatusCode: 409, Header: http.Header{}, Body: body})
	require.NotNil(t, ce)
	assert.True(t, body.closed)
	assert.Equal(t, KindDuplicate, ce.Kind)
	assert.Empty(t, ce.Method, "no request")
}

func TestNewStatusError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		status    int
		code      string
		message   string
		fields    []string
		requestID string
	}{
		{"k8s_unprocessable_422.http", 422, "Invalid",
			`Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`,
			[]string{"spec.replicas"}, ""},
		{"github_422_validation.http", 422, "custom", "Validation Failed: name already exists on this account",
			[]string{"name"}, ""},
		{"stripe_400_invalid_request.http", 400, "parameter_missing", "Missing required param: amount.",
			[]string{"amount"}, "req_Q1w2E3r4"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			resp := loadResponse(t, tc.file, newRequest(t, "POST", "https://u:p@api.example.com/x?password=pw"))
			require.Nil(t, parseConflict(resp, nil), "not a conflict")
			var err error = newStatusError(resp, nil)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.NotErrorIs(t, err, ErrConflict)
			assert.Equal(t, tc.status, se.StatusCode)
			assert.Equal(t, "POST", se.Method)
			assert.Equal(t, "https://api.example.com/x?password=REDACTED", se.URL)
			assert.Equal(t, tc.code, se.Code)
			assert.Equal(t, tc.message, se.Message)
			assert.Equal(t, tc.fields, se.Fields)
			assert.Equal(t, tc.requestID, se.RequestID)
			assert.NotEmpty(t, se.Body)
		})
	}
}

func TestConflictErrorIs(t *testing.T) {
	t.Parallel()
	all := []error{ErrConflict, ErrPreconditionFailed, ErrPreconditionRequired,
		ErrVersionMismatch, ErrDuplicate, ErrInvalidState, ErrBusy, ErrAttemptsExhausted, ErrMergeConflict}
	tests := []struct {
		name    string
		err     *ConflictError
		matches []error
	}{
		{"412 version", &ConflictError{StatusCode: 412, Kind: KindVersion},
			[]error{ErrConflict, ErrPreconditionFailed, ErrVersionMismatch}},
		{"412 create-if-absent", &ConflictError{StatusCode: 412, Kind: KindDuplicate},
			[]error{ErrConflict, ErrPreconditionFailed, ErrDuplicate}},
		{"428", &ConflictError{StatusCode: 428, Kind: KindPreconditionRequired},
			[]error{ErrConflict, ErrPreconditionRequired}},
		{"409 version", &ConflictError{StatusCode: 409, Kind: KindVersion}, []error{ErrConflict, ErrVersionMismatch}},
		{"409 duplicate", &ConflictError{StatusCode: 409, Kind: KindDuplicate}, []error{ErrConflict, ErrDuplicate}},
		{"409 state", &ConflictError{StatusCode: 409, Kind: KindState}, []error{ErrConflict, ErrInvalidState}},
		{"409 busy", &ConflictError{StatusCode: 409, Kind: KindBusy}, []error{ErrConflict, ErrBusy}},
		{"409 unknown", &ConflictError{StatusCode: 409}, []error{ErrConflict}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("saving: %w", tc.err)
			for _, target := range all {
				if slices.Contains(tc.matches, target) {
					assert.ErrorIs(t, wrapped, target)
				} else {
					assert.NotErrorIs(t, wrapped, target)
				}
			}
			var ce *ConflictError
			require.ErrorAs(t, wrapped, &ce)
			assert.Same(t, tc.err, ce)
		})
	}
}

func TestKindStringAndErr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		name string
		err  error
	}{
		{KindUnknown, "unknown", ErrConflict},
		{KindVersion, "version", ErrVersionMismatch},
		{KindDuplicate, "duplicate", ErrDuplicate},
		{KindState, "state", ErrInvalidState},
		{KindBusy, "busy", ErrBusy},
		{KindPreconditionRequired, "precondition required", ErrPreconditionRequired},
		{Kind(99), "unknown", ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.name, tc.kind.String())
			assert.Equal(t, tc.err, tc.kind.Err())
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"full conflict", &ConflictError{StatusCode: 409, Kind: KindDuplicate, Method: "POST",
			URL: "https://api.example.com/users", Code: "email_taken", Message: "email already exists",
			Fields: []string{"email", "/data/attributes/email"}, Attempts: 2},
			"occ: POST https://api.example.com/users: 409 conflict (duplicate) [email_taken]: email already exists; fields: email, /data/attributes/email after 2 attempt(s)"},
		{"bare conflict", &ConflictError{StatusCode: 412, Kind: KindVersion}, "occ: 412 conflict (version)"},
		{"status error", &StatusError{StatusCode: 422, Method: "PUT", URL: "https://api/x", Code: "invalid",
			Message: "name is required"},
			"occ: PUT https://api/x: 422 Unprocessable Entity [invalid]: name is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}

func TestKeepHeaders(t *testing.T) {
	t.Parallel()
	resp := loadResponse(t, "flat_locked.http", newRequest(t, "PATCH", "https://app.example.com/accounts/3"))
	ce := parseConflict(resp, nil)
	require.NotNil(t, ce)
	assert.Empty(t, ce.Header.Values("Set-Cookie"))
	assert.Equal(t, "5", ce.Header.Get("Retry-After"))
	assert.Equal(t, "0f9e8d7c", ce.Header.Get("X-Request-Id"))
	assert.Equal(t, "application/json", ce.Header.Get("Content-Type"))

	resp = loadResponse(t, "azure_storage_412_condition_not_met.http", nil)
	ce = parseConflict(resp, nil)
	require.NotNil(t, ce)
	assert.Equal(t, "Mon, 06 May 2024 07:08:09 GMT", ce.Header.Get("Last-Modified"))
	assert.Equal(t, `"0x8DC6D1B2C3D4E5F"`, ce.Header.Get("ETag"))
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	const date = "Mon, 06 May 2024 07:08:09 GMT"
	tests := []struct {
		name       string
		value, now string
		want       time.Duration
		ok         bool
	}{
		{"absent", "", "", 0, false},
		{"seconds", "120", "", 2 * time.Minute, true},
		{"zero", "0", "", 0, true},
		{"negative", "-5", "", 0, true},
		{"huge", "9223372036854775807", "", time.Duration(math.MaxInt64), true},
		{"overflowing", "99999999999999999999999", "", 0, false},
		{"date after Date", "Mon, 06 May 2024 07:08:39 GMT", date, 30 * time.Second, true},
		{"date before Date", "Mon, 06 May 2024 07:00:00 GMT", date, 0, true},
		{"date without Date", "Mon, 06 May 2024 07:09:09 GMT", "", time.Minute, true},
		{"garbage", "soon", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			if tc.now != "" {
				h.Set("Date", tc.now)
			}
			clock := func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
			got, ok := retryAfter(h, clock)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKindFromWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want Kind
	}{
		{"the object has been modified; please apply your changes to the latest version", KindVersion},
		{"Optimistic lock failure", KindVersion},
		{"Document update conflict.", KindVersion},
		{"revision mismatch", KindVersion},
		{"stale data", KindVersion},
		{"ETAG_MISMATCH", KindVersion},
		{"resourceVersionTooOld", KindVersion},
		{"Email already exists", KindDuplicate},
		{"DuplicateKey", KindDuplicate},
		{"violates unique constraint users_email_key", KindDuplicate},
		{"username has already been taken", KindDuplicate},
		{"NameAlreadyExists", KindDuplicate},
		{"invalid state", KindState},
		{"cannot transition from shipped to cancelled", KindState},
		{"ORDER_INVALID_STATE", KindState},
		{"The repository is archived", KindState},
		{"Order 7 has shipped and can no longer be changed", KindState},
		{"this field cannot be modified", KindState},
		{"the record is immutable", KindState},
		{"operation in progress", KindBusy},
		{"resource locked", KindBusy},
		{"server busy", KindBusy},
		{"LeaseAlreadyPresent", KindBusy},
		{"A request with this Idempotency-Key is still being processed", KindBusy},
		{"idempotency_key_in_use", KindBusy},
		{"conflict", KindUnknown},
		{"Conversion failed for the mistaken input", KindUnknown},
		{"", KindUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, kindFromWords(tc.text))
		})
	}
}

func TestClassificationRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		inm    string
		body   string
		want   Kind
	}{
		{"412 is a version mismatch whatever it says", 412, "", `{"message":"already exists"}`, KindVersion},
		{"412 to a create-if-absent is a duplicate", 412, "*", "", KindDuplicate},
		{"412 to If-None-Match with a tag is a version mismatch", 412, `"a"`, "", KindVersion},
		{"428 is precondition required whatever it says", 428, "", `{"message":"locked"}`, KindPreconditionRequired},
		{"409 without words is unknown", 409, "", `{"message":"Conflict"}`, KindUnknown},
		{"409 code beats message", 409, "", `{"code":"RESOURCE_LOCKED","message":"name already exists"}`, KindBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, "PUT", "https://api.example.com/x")
			if tc.inm != "" {
				req.Header.Set("If-None-Match", tc.inm)
			}
			resp := &http.Response{StatusCode: tc.status, Request: req, Body: io.NopCloser(strings.NewReader(tc.body)),
				Header: http.Header{"Content-Type": {"application/json"}}}
			ce := parseConflict(resp, nil)
			require.NotNil(t, ce)
			assert.Equal(t, tc.want, ce.Kind)
		})
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"clean", "email already exists", 64, "email already exists"},
		{"double space", "a  b", 64, "a b"},
		{"edges", " a ", 64, "a"},
		{"tab and newline", "a\tb\r\nc", 64, "a b c"},
		{"control", "a\x1b[31mb\x00", 64, "a [31mb"},
		{"line separator", "a\u2028b", 64, "a b"},
		{"invalid utf-8", "a\xffb", 64, "a\uFFFDb"},
		{"cut", "abcdefghij", 8, "abcde…"},
		{"cut on a rune boundary", "ééééé", 8, "éé…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cleanText(tc.in, tc.max)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), tc.max)
		})
	}
}
