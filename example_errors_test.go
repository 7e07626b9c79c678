package occ_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/occ-go/occ"
)

// conflictAnswer records what a server would answer to req.
func conflictAnswer(req *http.Request, status int, header map[string]string, body string) *http.Response {
	rec := httptest.NewRecorder()
	for k, v := range header {
		rec.Header().Set(k, v)
	}
	rec.WriteHeader(status)
	_, _ = rec.WriteString(body)
	resp := rec.Result()
	resp.Request = req
	return resp
}

// A duplicate can never be fixed by retrying: show the person which field
// clashed and what the server suggests.
func ExampleConflictError_duplicate() {
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/users?api_key=s3cr3t", nil)
	resp := conflictAnswer(req, http.StatusConflict, map[string]string{"Content-Type": "application/json"},
		`{"error":"conflict","message":"Username already exists","conflicting_field":"username",
		  "suggestion":"Try a different username or sign in to existing account"}`)

	err := occ.CheckConflict(resp)

	var ce *occ.ConflictError
	if errors.Is(err, occ.ErrDuplicate) && errors.As(err, &ce) {
		for _, f := range ce.Fields {
			fmt.Printf("%s: %s\n", f, ce.Message)
		}
		fmt.Println("hint:", ce.Suggestion)
		fmt.Println("retry?", ce.Retryable())
	}
	fmt.Println(err)
	// Output:
	// username: Username already exists
	// hint: Try a different username or sign in to existing account
	// retry? false
	// occ: POST https://api.example.com/users?api_key=REDACTED: 409 conflict (duplicate) [conflict]: Username already exists; fields: username
}

// A version conflict is retryable: the answer may already carry the current
// version and representation, saving a GET before reapplying the change.
func ExampleConflictError_version() {
	req := httptest.NewRequest(http.MethodPut, "https://k8s.example.com/api/v1/namespaces/default/configmaps/settings", nil)
	resp := conflictAnswer(req, http.StatusConflict, map[string]string{"Content-Type": "application/json"},
		`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,
		  "message":"Operation cannot be fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again"}`)

	err := occ.CheckConflict(resp)

	var ce *occ.ConflictError
	if errors.As(err, &ce) && ce.Retryable() {
		fmt.Println("kind:", ce.Kind, "code:", ce.Code)
		fmt.Println("version mismatch?", errors.Is(err, occ.ErrVersionMismatch))
		fmt.Println("current version known?", ce.CurrentVersion != "")
	}

	// A 412 that answers with the resource itself carries both.
	req = httptest.NewRequest(http.MethodPut, "https://docs.example.com/doc-1", nil)
	resp = conflictAnswer(req, http.StatusPreconditionFailed,
		map[string]string{"Content-Type": "application/json", "ETag": `"18"`},
		`{"id":"doc-1","title":"Roadmap"}`)
	ce = occ.ParseConflict(resp)
	fmt.Println(ce.Kind, ce.CurrentVersion, string(ce.Current), errors.Is(ce, occ.ErrPreconditionFailed))
	// Output:
	// kind: version code: Conflict
	// version mismatch? true
	// current version known? false
	// version "18" {"id":"doc-1","title":"Roadmap"} true
}

// CheckConflict returns a plain nil error for an answer that is not a
// conflict, so its result can be returned as an error directly; returning
// ParseConflict's *ConflictError as an error would make a 200 an error.
func ExampleCheckConflict() {
	check := func(resp *http.Response) error { return occ.CheckConflict(resp) }

	ok := conflictAnswer(nil, http.StatusOK, nil, `{"id":1}`)
	fmt.Println(check(ok) == nil)

	req := httptest.NewRequest(http.MethodPut, "https://example.test/db/doc1", nil)
	req.Header.Set("If-None-Match", "*")
	clash := conflictAnswer(req, http.StatusConflict, map[string]string{"Content-Type": "application/json"},
		`{"error":"conflict","reason":"Document update conflict"}`)
	err := check(clash)
	fmt.Println(errors.Is(err, occ.ErrDuplicate))
	// Output:
	// true
	// true
}

// A ConflictError logs as a group of what matters, with the URL redacted and
// neither the body nor the headers.
func ExampleConflictError_LogValue() {
	req := httptest.NewRequest(http.MethodPut, "https://api.example.com/docs/7?access_token=s3cr3t", nil)
	resp := conflictAnswer(req, http.StatusPreconditionFailed,
		map[string]string{"Content-Type": "application/json", "ETag": `"8"`}, `{"password":"hunter2"}`)
	ce := occ.ParseConflict(resp)

	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Warn("write refused", "err", ce)
	// Output:
	// {"level":"WARN","msg":"write refused","err":{"status":412,"kind":"version","method":"PUT","url":"https://api.example.com/docs/7?access_token=REDACTED","current_version":"\"8\""}}
}
