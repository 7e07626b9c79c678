package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureFiles lists testdata/errors/*.http by base name.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "errors", "*.http"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func TestCreateMarkerComesFromTheSettings(t *testing.T) {
	t.Parallel()
	pouch := `{"error":"conflict","reason":"Document update conflict"}`
	tests := []struct {
		name   string
		status int
		body   string
		inm    string // If-None-Match of the request the answer names
		create *bool  // what the call site says; nil: read the answer's request
		want   Kind
	}{
		{"409 to a create-if-absent", 409, pouch, "*", nil, KindDuplicate},
		{"409 to an update", 409, pouch, "", nil, KindVersion},
		{"409 to occ's create, request rewritten", 409, pouch, "", ptr(true), KindDuplicate},
		{"412 to occ's create, request rewritten", 412, "", "", ptr(true), KindDuplicate},
		{"412 to occ's update, request rewritten to look like a create", 412, "", "*", ptr(false), KindVersion},
		{"409 busy to a create stays busy", 409, `{"message":"resource is locked"}`, "*", nil, KindBusy},
		{"409 state to a create stays state", 409, `{"message":"the collection is read-only"}`, "*", nil, KindState},
		{"409 unknown to a create is a duplicate", 409, `{"message":"Conflict"}`, "*", nil, KindDuplicate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, "PUT", "https://db.example.com/db/doc1")
			if tc.inm != "" {
				req.Header.Set("If-None-Match", tc.inm)
			}
			s := &errorSettings{}
			if tc.create != nil {
				s = s.answering(*tc.create)
			}
			ce := parseConflict(answer(tc.status, "application/json", tc.body, req), s)
			require.NotNil(t, ce)
			assert.Equal(t, tc.want, ce.Kind)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// rewriting is a transport that answers a copy of each request without its
// If-None-Match, as a gateway transport that rewrites requests may.
type rewriting struct{ next http.RoundTripper }

func (r rewriting) RoundTrip(req *http.Request) (*http.Response, error) {
	cp := req.Clone(req.Context())
	cp.Header.Del("If-None-Match")
	return r.next.RoundTrip(cp)
}

func TestCreateAdoptsOnA409ToCreateIfAbsent(t *testing.T) {
	for _, rewrite := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "rewritten request"}[rewrite], func(t *testing.T) {
			api := newFakeAPI(`{"name":"existing","count":7}`)
			api.then(reply(409, `{"error":"conflict","reason":"Document update conflict"}`,
				"Content-Type", "application/json", "ETag", `W/"39-c0aD2MvSZJYhjj/Oo9YvbPM+3q0"`))
			var rt http.RoundTripper = inMemory{api}
			if rewrite {
				rt = rewriting{rt}
			}
			c := memClient(t, api, WithHTTPClient(&http.Client{Transport: rt}))
			var st Stats
			got, err := Create(context.Background(), c, itemURL, item{Name: "new"}, WithAdoptExisting(true), WithStats(&st))
			require.NoError(t, err)
			assert.Equal(t, "existing", got.Value.Name)
			assert.True(t, st.Adopted)
			puts, _ := api.requests(http.MethodPut)
			require.Len(t, puts, 1)
			assert.Equal(t, !rewrite, puts[0].Header.Get("If-None-Match") == "*", "what the server saw")
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://api.example.com/a/b", "https://api.example.com/a/b"},
		{"https://user:pass@api.example.com/a", "https://api.example.com/a"},
		{"https://api.example.com/a?page=2&sort=name", "https://api.example.com/a?page=2&sort=name"},
		{"https://api.example.com/a?token=abc&page=2", "https://api.example.com/a?token=REDACTED&page=2"},
		{"https://api.example.com/a?API_KEY=abc&Signature=x%2By&sig=1&code=c&password=p&client_secret=s",
			"https://api.example.com/a?API_KEY=REDACTED&Signature=REDACTED&sig=REDACTED&code=REDACTED&password=REDACTED&client_secret=REDACTED"},
		{"https://api.example.com/a?access%5Ftoken=abc", "https://api.example.com/a?access%5Ftoken=REDACTED"},
		{"https://api.example.com/a?flag&key", "https://api.example.com/a?flag&key"},
		{"https://api.example.com/a#frag", "https://api.example.com/a"},
		{"https://api.example.com/a?api-key=1&apikey=2&x-api-key=3&key=4&Api_Key=5",
			"https://api.example.com/a?api-key=REDACTED&apikey=REDACTED&x-api-key=REDACTED&key=REDACTED&Api_Key=REDACTED"},
		{"https://api.example.com/a?access_token=1&refresh_token=2&id_token=3&oauth_token=4&auth_token=5&session_token=6",
			"https://api.example.com/a?access_token=REDACTED&refresh_token=REDACTED&id_token=REDACTED&oauth_token=REDACTED&auth_token=REDACTED&session_token=REDACTED"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=t&X-Amz-Signature=abc",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED"},
		{"https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Expires=1&Signature=s",
			"https://b.s3.amazonaws.com/k?AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED"},
		{"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p&X-Goog-Signature=ab",
			"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=REDACTED&X-Goog-Signature=REDACTED"},
		{"https://a.blob.core.windows.net/c/b?sv=2023-11-03&se=2030-01-01&sr=b&sp=r&sig=abc%3D",
			"https://a.blob.core.windows.net/c/b?sv=2023-11-03&se=2030-01-01&sr=b&sp=r&sig=REDACTED"},
		{"https://api.example.com/a?passwd=1&pwd=2&pass=3&secret=4&app_secret=5&db_password=6&credential=7&credentials=8",
			"https://api.example.com/a?passwd=REDACTED&pwd=REDACTED&pass=REDACTED&secret=REDACTED&app_secret=REDACTED&db_password=REDACTED&credential=REDACTED&credentials=REDACTED"},
		{"https://api.example.com/a?auth=1&authorization=2&session=3&sessionid=4&jwt=5&assertion=6&client_assertion=7&private_key=8",
			"https://api.example.com/a?auth=REDACTED&authorization=REDACTED&session=REDACTED&sessionid=REDACTED&jwt=REDACTED&assertion=REDACTED&client_assertion=REDACTED&private_key=REDACTED"},
		{"https://api.example.com/a?JSESSIONID=1&PHPSESSID=2&csrf_token=3&SAMLResponse=4&oauth_verifier=5&bearer_token=6",
			"https://api.example.com/a?JSESSIONID=REDACTED&PHPSESSID=REDACTED&csrf_token=REDACTED&SAMLResponse=REDACTED&oauth_verifier=REDACTED&bearer_token=REDACTED"},
		// Ordinary names that merely contain a secret-looking word stay readable.
		{"https://api.example.com/a?assignee=ada&author=bob&zipcode=1&sort_key=name&keyword=x&monkey=y&authority=z&postcode=2",
			"https://api.example.com/a?assignee=ada&author=bob&zipcode=1&sort_key=name&keyword=x&monkey=y&authority=z&postcode=2"},
		{"https://api.example.com/a?pageToken=p&next_page_token=n&continuation_token=c&sync_token=s&keys=a,b&key_marker=k&tokenizer=t",
			"https://api.example.com/a?pageToken=p&next_page_token=n&continuation_token=c&sync_token=s&keys=a,b&key_marker=k&tokenizer=t"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, redactURL(u))
		})
	}
	assert.Empty(t, redactURL(nil))
}

func TestWithRedactedParams(t *testing.T) {
	t.Parallel()
	c, err := New(WithRedactedParams("X-Tenant-Secret-Id", "shard"), WithRedactedParams("ticket"))
	require.NoError(t, err)
	u, err := url.Parse("https://api.example.com/a?x_tenant_secret_id=1&Shard=2&ticket=3&page=4&api_key=5")
	require.NoError(t, err)
	want := "https://api.example.com/a?x_tenant_secret_id=REDACTED&Shard=REDACTED&ticket=REDACTED&page=4&api_key=REDACTED"
	assert.Equal(t, want, c.errs.redactURL(u))
	assert.Equal(t, "https://api.example.com/a?x_tenant_secret_id=1&Shard=2&ticket=3&page=4&api_key=REDACTED",
		redactURL(u), "the package default is unchanged")
	assert.Equal(t, want, c.errs.redactURLText(u.String()))
	assert.Equal(t, "https://exa mple.com/a?ticket=REDACTED&page=4", c.errs.redactURLText("https://u:p@exa mple.com/a?ticket=3&page=4"))

	req := newRequest(t, "PUT", u.String())
	ce := parseConflict(answer(409, "text/plain", "locked", req), &c.errs)
	require.NotNil(t, ce)
	assert.Equal(t, want, ce.URL)
	se := newStatusError(answer(400, "text/plain", "bad", req), &c.errs)
	assert.Equal(t, want, se.URL)

	for _, bad := range [][]string{{""}, {" "}, {"a", "-_"}} {
		_, err := New(WithRedactedParams(bad...))
		assert.Error(t, err, "%q", bad)
	}
}

func TestErrorTextRedactsHandMadeURLs(t *testing.T) {
	t.Parallel()
	ce := &ConflictError{StatusCode: 409, Method: "PUT", URL: "https://api.example.com/x?access_token=s3cr3t&page=1"}
	se := &StatusError{StatusCode: 400, Method: "PUT", URL: "https://u:p@api.example.com/x?api_key=s3cr3t"}
	bad := &StatusError{StatusCode: 400, Method: "PUT", URL: "https://u:p@exa mple.com/x?token=s3cr3t&page=2#f"}
	assert.Contains(t, bad.Error(), "https://exa mple.com/x?token=REDACTED&page=2:")
	for _, err := range []error{ce, se, bad} {
		assert.NotContains(t, err.Error(), "s3cr3t")
		assert.NotContains(t, err.Error(), "u:p@")
	}
}

func TestDefaultClassifierOnAHandMadeError(t *testing.T) {
	t.Parallel()
	req := newRequest(t, "PUT", "https://api.example.com/x", "If-None-Match", "*")
	resp := &http.Response{StatusCode: 412, Request: req, Header: http.Header{}}
	k, ok := DefaultClassifier().Classify(resp, &ConflictError{StatusCode: 412})
	assert.True(t, ok)
	assert.Equal(t, KindDuplicate, k, "read from resp.Request when occ did not parse the error")
}

func TestKindText(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{KindUnknown, KindVersion, KindDuplicate, KindState, KindBusy, KindPreconditionRequired} {
		text, err := k.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, k.String(), string(text))
		var back Kind
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, k, back)
	}
	var k Kind
	require.NoError(t, k.UnmarshalText([]byte("Duplicate")), "case does not matter")
	assert.Equal(t, KindDuplicate, k)
	assert.Error(t, k.UnmarshalText([]byte("sideways")))
	assert.Error(t, k.UnmarshalText(nil))

	b, err := json.Marshal(&ConflictError{StatusCode: 409, Kind: KindVersion})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Kind":"version"`)
	var ce ConflictError
	require.NoError(t, json.Unmarshal(b, &ce))
	assert.Equal(t, KindVersion, ce.Kind)
}

func TestLogValuesCarryNoSecrets(t *testing.T) {
	t.Parallel()
	ce := &ConflictError{StatusCode: 409, Kind: KindDuplicate, Code: "email_taken", Message: "email already exists",
		Fields: []string{"email"}, Method: "POST", URL: "https://api.example.com/users?api_key=s3cr3t",
		RequestID: "r1", Attempts: 2, CurrentVersion: `"7"`,
		Current: json.RawMessage(`{"password":"hunter2"}`), Body: []byte(`{"password":"hunter2"}`),
		Header: http.Header{"Location": {"https://x?token=s3cr3t"}}}
	se := &StatusError{StatusCode: 422, Method: "PUT", URL: "https://u:pw@api.example.com/x?token=s3cr3t",
		Code: "invalid", Message: "name is required", Body: []byte("hunter2")}
	me := &MergeConflictError{Conflicts: []PathConflict{{Path: "/password", Mine: json.RawMessage(`"hunter2"`),
		Theirs: json.RawMessage(`"s3cr3t"`)}}}
	for _, v := range []slog.LogValuer{ce, se, me} {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("failed", "err", v)
		out := buf.String()
		assert.NotContains(t, out, "s3cr3t")
		assert.NotContains(t, out, "hunter2")
		assert.NotContains(t, out, "pw@")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("failed", "err", ce)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	got := line["err"].(map[string]any)
	assert.Equal(t, "duplicate", got["kind"])
	assert.Equal(t, float64(409), got["status"])
	assert.Equal(t, "email_taken", got["code"])
	assert.Equal(t, "email already exists", got["message"])
	assert.Equal(t, "https://api.example.com/users?api_key=REDACTED", got["url"])
	assert.Equal(t, float64(2), got["attempts"])

	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("failed", "err", me)
	assert.Contains(t, buf.String(), "/password")
}

func TestCheckConflict(t *testing.T) {
	t.Parallel()
	// The trap: a *ConflictError in an error interface is never nil.
	check := func(r *http.Response) error { return ParseConflict(r) }
	ok := answer(200, "application/json", `{}`, nil)
	assert.Error(t, check(ok), "the typed nil the doc warns about")

	assert.NoError(t, CheckConflict(nil))
	assert.NoError(t, CheckConflict(answer(200, "application/json", `{}`, nil)))
	assert.NoError(t, CheckConflict(answer(404, "application/json", `{}`, nil)))
	err := CheckConflict(answer(409, "application/json", `{"message":"email already exists"}`, nil))
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrDuplicate)
	assert.True(t, strings.HasPrefix(err.Error(), "occ: 409"))
}
