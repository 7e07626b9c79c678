package occ_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile is what a hostile server adds to every text it sends: terminal
// escapes, a bell, bidi overrides and isolates, a zero-width space.
const hostile = "\x1b[2J\x07\u202e\u2066\u200b\x00"

// echoOf returns everything r carried that could be secret: every header
// value and every query value, each with its name.
func echoOf(r *http.Request) []string {
	var out []string
	for k, vs := range r.Header {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			out = append(out, k+"="+v)
		}
	}
	out = append(out, "raw query "+r.URL.RawQuery)
	sort.Strings(out)
	return out
}

// echoBodies render an echo of the request in the error formats occ
// parses, each with hostile characters.
var echoBodies = map[string]func(echo []string) (ctype, body string){
	"json": func(echo []string) (string, string) {
		b, _ := json.Marshal(map[string]any{
			"code": hostile + echo[0], "message": "you sent " + hostile + strings.Join(echo, "; "),
			"fields": echo, "suggestion": strings.Join(echo, " "), "request_id": echo[len(echo)-1],
		})
		return "application/json", string(b)
	},
	"problem": func(echo []string) (string, string) {
		b, _ := json.Marshal(map[string]any{
			"type": "https://e.example/" + echo[0], "title": hostile + echo[1], "detail": strings.Join(echo, "\n"),
			"instance": echo[2], "echo": echo,
		})
		return "application/problem+json", string(b)
	},
	"xml": func(echo []string) (string, string) {
		var b strings.Builder
		b.WriteString("<Error><Code>" + echo[0] + "</Code><Message>" + hostile + strings.Join(echo, " ") + "</Message>")
		for _, e := range echo {
			b.WriteString("<Field>" + e + "</Field>")
		}
		return "application/xml", b.String() + "</Error>"
	},
	"html": func(echo []string) (string, string) {
		return "text/html", "<html><title>" + hostile + echo[0] + "</title><p>" + strings.Join(echo, "<br>") + "</p></html>"
	},
	"text": func(echo []string) (string, string) {
		return "text/plain", hostile + strings.Join(echo, " ") + "\n"
	},
	"long text": func(echo []string) (string, string) {
		// the message is cut inside a secret
		pad := strings.Repeat("x", 1024-len("xx")-3)
		return "text/plain", pad + " " + secretAPIKey + " " + strings.Join(echo, " ")
	},
}

// surfaces gathers every text occ produces for one call: the error in
// every form, the hooks' payloads, the client's logs.
type surfaces struct {
	mu    sync.Mutex
	texts []string
	logs  bytes.Buffer
}

func (s *surfaces) add(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, fmt.Sprintf(format, args...))
}

// hooks returns hooks that render every payload.
func (s *surfaces) hooks() occ.Hooks {
	return occ.Hooks{
		OnStart:    func(ctx context.Context, op occ.Operation) context.Context { s.add("%+v", op); return ctx },
		OnRequest:  func(_ context.Context, r occ.Request) { s.add("%+v", r) },
		OnResponse: func(_ context.Context, r occ.Response) { s.add("%+v", r) },
		OnConflict: func(_ context.Context, ce *occ.ConflictError) {
			s.add("%+v %s %s", ce, mustJSON(ce), ce.LogValue().String())
		},
		OnRetry: func(_ context.Context, r occ.Retry) { s.add("%+v", r) },
		OnEnd:   func(_ context.Context, r occ.Result) { s.add("%+v %s", r, mustJSON(r.Err)) },
	}
}

// addError renders err: Error, %+v, JSON, and slog's text and JSON
// handlers.
func (s *surfaces) addError(err error) {
	s.add("%s | %+v | %v | %s", err.Error(), err, err, mustJSON(err))
	for _, h := range []slog.Handler{slog.NewTextHandler(&s.logs, nil), slog.NewJSONHandler(&s.logs, nil)} {
		slog.New(h).Error("call failed", "err", err, "error", err.Error())
	}
}

// check asserts that no text holds a secret, a control character (but
// the logs' line ends) or an invisible format character.
func (s *surfaces) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, text := range append(s.texts, strings.Split(s.logs.String(), "\n")...) {
		assertCleanText(t, text)
	}
}

// assertCleanText asserts that text holds no secret marker, control
// character or invisible format character.
func assertCleanText(t *testing.T, text string) {
	t.Helper()
	assert.NotContains(t, text, secretMarker)
	for _, r := range text {
		if unicode.IsControl(r) || (r >= 0x80 && unicode.Is(unicode.Cf, r)) {
			assert.Failf(t, "a control or format character reached a text", "%U in %q", r, text)
			return
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "json: " + err.Error()
	}
	return string(b)
}

// echoServer serves {"count":1} to GETs and answers writes with status and
// an echo of the request in format.
func echoServer(status int, format string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			doc200(w, r)
			return
		}
		ctype, body := echoBodies[format](echoOf(r))
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("X-Request-Id", secretAPIKey)
		w.Header().Set("X-Ms-Error-Code", "\u202e"+secretTenant)
		w.Header().Set("Location", "/items/1?token="+secretQuery)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// TestSecurityEchoedSecretsStayOutOfText: a server that repeats every
// credential and secret query value it got, with terminal escapes and bidi
// controls, in every error format, reaches no text occ produces: Error,
// JSON, slog text and JSON, hooks' payloads, occ's own logs.
func TestSecurityEchoedSecretsStayOutOfText(t *testing.T) {
	for format := range echoBodies {
		for _, status := range []int{http.StatusConflict, http.StatusPreconditionFailed, http.StatusInternalServerError} {
			t.Run(fmt.Sprintf("%s/%d", format, status), func(t *testing.T) {
				srv := httptest.NewServer(echoServer(status, format))
				defer srv.Close()
				var got surfaces
				logger := slog.New(slog.NewJSONHandler(&got.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c := secretClient(t, nil, occ.WithHooks(got.hooks()), occ.WithLogger(logger),
					occ.WithMaxAttempts(2), occ.WithBackoff(occ.BackoffFunc(func(int) time.Duration { return 0 })))
				_, err := occ.Modify(context.Background(), c, srv.URL+"/items/1"+secretQueryString, func(v *secCounter) error { v.Count++; return nil })
				require.Error(t, err)
				got.addError(err)
				assert.Contains(t, err.Error(), "REDACTED", "the echo is still shown, its secrets redacted")
				got.check(t)
				var se *occ.StatusError
				if ce := (*occ.ConflictError)(nil); assert.True(t, errorsAs(err, &ce, &se)) {
					assertNoSecretIn(t, ce, se)
				}
			})
		}
	}
}

// errorsAs reports whether err is a *ConflictError or a *StatusError,
// setting the one it is.
func errorsAs(err error, ce **occ.ConflictError, se **occ.StatusError) bool {
	return asError(err, ce) || asError(err, se)
}

// assertNoSecretIn asserts that the body and the kept headers (but
// Location and ETag, kept whole for occ to act on) of whichever error is
// set hold no secret.
func assertNoSecretIn(t *testing.T, ce *occ.ConflictError, se *occ.StatusError) {
	t.Helper()
	body, header := []byte(nil), http.Header(nil)
	if ce != nil {
		body, header = ce.Body, ce.Header
	} else {
		body, header = se.Body, se.Header
	}
	assert.NotContains(t, string(body), secretMarker)
	for k, vs := range header {
		if k != "Location" && k != "Etag" {
			assert.NotContains(t, strings.Join(vs, " "), secretMarker, k)
		}
	}
}

// TestSecurityErrorJSONCarriesSafeFieldsOnly: json.Marshal of an error
// gives its safe fields, never its body, headers or document.
func TestSecurityErrorJSONCarriesSafeFieldsOnly(t *testing.T) {
	ce := &occ.ConflictError{StatusCode: 409, Kind: occ.KindVersion, Code: "stale", Message: "m",
		URL: "https://u:" + secretMarker + "@h/x?token=" + secretMarker, Body: []byte(secretMarker),
		Header:  http.Header{"Location": {"https://h/?sig=" + secretMarker}},
		Current: json.RawMessage(`{"k":"` + secretMarker + `"}`)}
	got := mustJSON(ce)
	assert.NotContains(t, got, secretMarker)
	var back map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &back))
	assert.Equal(t, "version", back["Kind"])
	assert.Equal(t, "stale", back["Code"])
	assert.Equal(t, "https://h/x?token=REDACTED", back["URL"])
	assert.Len(t, back, 5, "status, kind, code, message and URL only")
	se := &occ.StatusError{StatusCode: 500, Body: []byte(secretMarker), Header: http.Header{"Location": {secretMarker}}}
	assert.NotContains(t, mustJSON(se), secretMarker)
	ae := &occ.AmbiguousError{Key: "k", Attempts: 1, Current: json.RawMessage(`{"k":"` + secretMarker + `"}`), Err: ce}
	assert.NotContains(t, mustJSON(ae), secretMarker)
	assert.Contains(t, mustJSON(ae), `"Cause":"occ: `)
	oe := &occ.OriginError{URL: "https://h/x", Target: "https://e/?sig=REDACTED", Err: se}
	assert.NotContains(t, mustJSON(oe), secretMarker)
	me := &occ.MergeConflictError{Conflicts: []occ.PathConflict{{Path: "/a", Mine: json.RawMessage(`"` + secretMarker + `"`)}}}
	assert.JSONEq(t, `{"conflicts":1,"paths":["/a"]}`, mustJSON(me))
}

// TestSecurityMergeConflictTextSanitizedAndBounded: member names come from
// the server; a hostile one cannot reach a terminal, nor make a text grow.
func TestSecurityMergeConflictTextSanitizedAndBounded(t *testing.T) {
	huge := strings.Repeat("k", 1<<20)
	key := `\u001b[2J\u0007\u202eevil`
	base := `{"` + key + `":1,"` + huge + `":1}`
	mine := `{"` + key + `":2,"` + huge + `":2}`
	theirs := `{"` + key + `":3,"` + huge + `":3}`
	_, err := occ.ThreeWay().Merge(context.Background(), []byte(base), []byte(mine), []byte(theirs))
	var me *occ.MergeConflictError
	require.ErrorAs(t, err, &me)
	require.Len(t, me.Conflicts, 2)
	var s surfaces
	s.addError(err)
	s.check(t)
	assert.Less(t, len(err.Error()), 2048, "the text is bounded")
	assert.Less(t, s.logs.Len(), 8192)
}

// TestSecurityBidiRemovedFromServerText: bidi overrides and isolates are
// removed from Code, Message and Fields.
func TestSecurityBidiRemovedFromServerText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"code":"a\u202eb","message":"x\u2066y\u2069z\u200f","field":["f\u202a1"]}`))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	ce := occ.ParseConflict(resp)
	require.NotNil(t, ce)
	assert.Equal(t, "ab", ce.Code)
	assert.Equal(t, "xyz", ce.Message)
	assert.Equal(t, []string{"f1"}, ce.Fields)
}

// asError is errors.As.
func asError[T error](err error, target *T) bool { return errors.As(err, target) }

// TestSecurityTransportErrorScrubbed: a transport error that quotes what
// the server sent (a malformed header line echoing a credential) has the
// credential scrubbed, and stays a net.Error.
func TestSecurityTransportErrorScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nX-Echo \x01" + r.Header.Get("X-Api-Key") + "\r\n\r\n")
		_ = buf.Flush()
	}))
	defer srv.Close()
	var got surfaces
	c := secretClient(t, nil, occ.WithHooks(got.hooks()))
	_, err := occ.GetJSON(context.Background(), c, srv.URL+"/items/1")
	require.Error(t, err)
	got.addError(err)
	got.check(t)
	var ne interface{ Timeout() bool }
	assert.True(t, errors.As(err, &ne), "the transport error stays reachable")
}

// TestSecurityScrubKeepsHeadersOccActsOn: a validator that happens to equal
// a header value sent stays whole in Header, where occ reads it to refresh
// and wait; only texts lose it.
func TestSecurityScrubKeepsHeadersOccActsOn(t *testing.T) {
	req, err := http.NewRequest(http.MethodPut, "https://api.example.com/x", nil)
	require.NoError(t, err)
	req.Header.Set("X-Tenant", "4711")
	resp := &http.Response{StatusCode: 412, Request: req, Body: http.NoBody, Header: http.Header{
		"Etag": {`"4711"`}, "Retry-After": {"4711"}, "X-Request-Id": {"req-4711"}, "Location": {"/x?t=4711"},
	}}
	ce := occ.ParseConflict(resp)
	require.NotNil(t, ce)
	assert.Equal(t, `"4711"`, ce.Header.Get("Etag"))
	assert.Equal(t, "4711", ce.Header.Get("Retry-After"))
	assert.Equal(t, "/x?t=4711", ce.Header.Get("Location"))
	assert.Equal(t, "req-REDACTED", ce.Header.Get("X-Request-Id"))
	assert.Equal(t, "req-REDACTED", ce.RequestID)
}

// TestSecurityScrubDoesNotChangeTheKind: a header value that is also a
// word of the server's message is scrubbed from the text only after the
// conflict is classified.
func TestSecurityScrubDoesNotChangeTheKind(t *testing.T) {
	req, err := http.NewRequest(http.MethodPut, "https://api.example.com/x", nil)
	require.NoError(t, err)
	req.Header.Set("X-Mode", "already exists")
	resp := &http.Response{StatusCode: 409, Request: req, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"message":"document already exists"}`))}
	ce := occ.ParseConflict(resp)
	require.NotNil(t, ce)
	assert.Equal(t, occ.KindDuplicate, ce.Kind)
	assert.Equal(t, "document REDACTED", ce.Message)
}
