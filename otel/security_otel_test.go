package occotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/occ-go/occ"
	occotel "github.com/occ-go/occ/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

const marker = "s3cr3t"

// spanTexts returns every text of a span: name, status, attributes, and
// its events' attributes.
func spanTexts(s sdktrace.ReadOnlySpan) []string {
	out := []string{s.Name(), s.Status().Description}
	for _, kv := range s.Attributes() {
		out = append(out, kv.Value.String())
	}
	for _, e := range s.Events() {
		for _, kv := range e.Attributes {
			out = append(out, kv.Value.String())
		}
	}
	return out
}

// TestSecuritySpansCarryNoSecretNorQuery: a server that echoes the
// credentials and the query it got, with terminal escapes, reaches no span:
// the status and exception text carry no query at all.
func TestSecuritySpansCarryNoSecretNorQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("\x1b[2J\u202eyou sent " + r.Header.Get("Authorization") + " " + r.URL.Query().Get("private_token") + " " + r.Header.Get("X-Api-Key")))
	}))
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp),
		occ.WithHeader("Authorization", "Bearer "+marker+"-authz"), occ.WithHeader("X-Api-Key", marker+"-key"))
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, srv.URL+"/items/1?private_token="+marker+"-q&tenant=acme")
	require.Error(t, err)
	spans := tel.spans.Ended()
	require.NotEmpty(t, spans)
	sawError := false
	for _, s := range spans {
		if s.Status().Code == codes.Error && s.Status().Description != "" {
			sawError = true
			assert.NotContains(t, s.Status().Description, "tenant=acme", "no query in the status")
		}
		for _, text := range spanTexts(s) {
			assert.NotContains(t, text, marker)
			assert.NotContains(t, text, "?", "no query: %q", text)
			for _, r := range text {
				assert.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "%U in %q", r, text)
			}
		}
	}
	assert.True(t, sawError, "the operation span records the error")
}

// TestSecuritySpanShowsFinalURL: after a redirect a read followed on its
// origin, the request span's url.full is the URL that answered.
func TestSecuritySpanShowsFinalURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `"1"`)
		_, _ = w.Write([]byte(`{}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tel := newTelemetry(t)
	c, err := occ.New(occotel.WithTelemetry(tel.tp, tel.mp))
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, srv.URL+"/old")
	require.NoError(t, err)
	var urls []string
	for _, s := range tel.spans.Ended() {
		if v, ok := attrs(s)[semconv.URLFullKey]; ok && s.Name() == http.MethodGet {
			urls = append(urls, v.AsString())
		}
	}
	assert.Equal(t, []string{srv.URL + "/new"}, urls)
	assert.False(t, strings.Contains(strings.Join(urls, ""), "/old"))
}
