package occ

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answer builds a response with a content type and body.
func answer(status int, contentType, body string, req *http.Request) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

func TestErrorOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
	}{
		{"zero body limit", WithMaxErrorBody(0)},
		{"negative body limit", WithMaxErrorBody(-1)},
		{"nil parser", WithConflictParser(nil)},
		{"nil classifier", WithClassifier(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.opt)
			require.Error(t, err)
			assert.Nil(t, c)
		})
	}
}

func TestWithMaxErrorBody(t *testing.T) {
	t.Parallel()
	c, err := New(WithMaxErrorBody(10))
	require.NoError(t, err)
	for _, status := range []int{409, 422} {
		body := &spyBody{r: strings.NewReader(strings.Repeat("x", 100))}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: body}
		if ce := parseConflict(resp, &c.errs); ce != nil {
			assert.Equal(t, "xxxxxxxxxx", string(ce.Body))
			assert.True(t, ce.BodyTruncated)
		} else {
			assert.Equal(t, "xxxxxxxxxx", string(newStatusError(resp, &c.errs).Body))
		}
		assert.Equal(t, int64(100), body.n, "the rest is drained")
		assert.True(t, body.closed)
	}
}

// The API puts its code in a header and says "HELD" for a lock.
var headerCode = ConflictParserFunc(func(resp *http.Response, body []byte, e *ConflictError) bool {
	code := resp.Header.Get("X-Error-Code")
	if code == "" {
		return false
	}
	e.Code, e.Message = code, "custom: "+string(body)
	return true
})
var held = ClassifierFunc(func(_ *http.Response, e *ConflictError) (Kind, bool) {
	if e.Code == "HELD" {
		return KindBusy, true
	}
	return KindUnknown, false
})

func TestCustomParserAndClassifier(t *testing.T) {
	t.Parallel()
	c, err := New(WithConflictParser(headerCode), WithClassifier(held))
	require.NoError(t, err)

	tests := []struct {
		name    string
		status  int
		header  string
		body    string
		code    string
		message string
		kind    Kind
	}{
		{"custom parser and classifier", 409, "HELD", `{"message":"name already exists"}`,
			"HELD", `custom: {"message":"name already exists"}`, KindBusy},
		{"custom parser, built-in classifier", 409, "DUPLICATE_NAME", "x", "DUPLICATE_NAME", "custom: x", KindDuplicate},
		{"built-in parser when the custom one declines", 409, "", `{"message":"name already exists"}`,
			"", "name already exists", KindDuplicate},
		{"custom classifier before the status rule", 412, "HELD", "", "HELD", "custom:", KindBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := answer(tc.status, "application/json", tc.body, nil)
			if tc.header != "" {
				resp.Header.Set("X-Error-Code", tc.header)
			}
			ce := parseConflict(resp, &c.errs)
			require.NotNil(t, ce)
			assert.Equal(t, tc.code, ce.Code)
			assert.Equal(t, tc.message, ce.Message)
			assert.Equal(t, tc.kind, ce.Kind)
		})
	}
}

func TestCustomParserOutputIsSanitised(t *testing.T) {
	t.Parallel()
	bad := ConflictParserFunc(func(_ *http.Response, _ []byte, e *ConflictError) bool {
		e.Message = "line one\nline \xff two"
		e.Fields = []string{"a", "", "a", "b"}
		return true
	})
	c, err := New(WithConflictParser(bad))
	require.NoError(t, err)
	ce := parseConflict(answer(409, "text/plain", "", nil), &c.errs)
	require.NotNil(t, ce)
	assert.Equal(t, "line one line \uFFFD two", ce.Message)
	assert.Equal(t, []string{"a", "b"}, ce.Fields)
}

func TestDefaultsAreReusable(t *testing.T) {
	t.Parallel()
	// A caller's parser and classifier can delegate to the built-in ones.
	p, cl := DefaultConflictParser(), DefaultClassifier()
	resp := answer(409, "application/json", `{"error":"conflict","message":"Username already exists","field":"username"}`, nil)
	var ce ConflictError
	require.True(t, p.Parse(resp, []byte(`{"error":"conflict","message":"Username already exists","field":"username"}`), &ce))
	assert.Equal(t, []string{"username"}, ce.Fields)
	ce.StatusCode = 409
	k, ok := cl.Classify(resp, &ce)
	assert.True(t, ok)
	assert.Equal(t, KindDuplicate, k)
	assert.False(t, p.Parse(resp, []byte("  "), &ce), "an empty body is not recognised")
}
