package occ_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/require"
)

// The credentials the fuzz target's client sends. Each holds secretMarker.

var fuzzSecrets = []string{
	"Bearer s3cr3t-authz-9f2c", "Basic s3cr3t-proxy-41aa", "session=s3cr3t-cookie-77d0",
	"s3cr3t-apikey-5b1e", "s3cr3t-amztoken-c3d9", "s3cr3t-query-6c4d", "s3cr3t-gitlab-2d7a",
}

// fuzzStatuses are the answers a fuzzed write gets: conflicts, errors, a
// busy answer and a transient one.
var fuzzStatuses = []int{409, 412, 428, 400, 404, 422, 500, 503}

// hostileAnswer answers GETs with a document and writes with status, the
// headers of hdr and body, every '$' in either replaced by the next secret
// the request carried: a server that echoes what it was sent.
func hostileAnswer(status int, hdr string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("ETag", `"1"`)
			_, _ = w.Write([]byte(`{"n":1}`))
			return
		}
		i := 0
		next := func() string { i++; return fuzzSecrets[i%len(fuzzSecrets)] }
		echo := func(s string) string {
			var b strings.Builder
			for _, part := range strings.SplitAfter(s, "$") {
				if p, ok := strings.CutSuffix(part, "$"); ok {
					b.WriteString(p + next())
					continue
				}
				b.WriteString(part)
			}
			return b.String()
		}
		for _, k := range []string{"Content-Type", "X-Request-Id", "X-Ms-Error-Code", "X-Minio-Error-Desc", "Location", "Etag"} {
			w.Header().Set(k, echo(hdr))
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(echo(string(body))))
	})
}

// FuzzNoSecretInText feeds hostile answers, which repeat the client's
// credentials and secret query values with controls and bidi characters,
// to a Modify, and asserts that no text occ produces (the error's Error,
// %+v, JSON and slog forms, every hook's payload, occ's own logs) holds a
// secret, a control character or an invisible format character.
func FuzzNoSecretInText(f *testing.F) {
	for _, seed := range []string{
		`{"code":"$","message":"you sent $ and $","fields":["$","$"],"suggestion":"$","request_id":"$"}`,
		`{"type":"https://e/$","title":"$` + "\u202e" + `","detail":"$\n$","instance":"$","x":"$"}`,
		`<Error><Code>$</Code><Message>` + "\x1b[2J" + `$</Message><Field>$</Field></Error>`,
		`<html><title>$</title><p>$ $</p></html>`,
		"you sent $\x07 \u2066$",
		strings.Repeat("x", 1020) + " $ $",
		`{"error":{"code":"$","message":"$","details":[{"target":"$"}]}}`,
	} {
		for _, hdr := range []string{"application/json", "text/plain; $", "\u202e$", ""} {
			f.Add(uint8(0), uint8(0), hdr, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, statusPick, limitPick uint8, hdr string, body []byte) {
		if strings.Contains(hdr, "cr3t") || bytes.Contains(body, []byte("cr3t")) || len(body) > 16<<10 || len(hdr) > 1<<10 {
			return // only the secrets the server echoes may hold the marker
		}
		status := fuzzStatuses[int(statusPick)%len(fuzzStatuses)]
		var got surfaces
		c := fuzzClient(t, hostileAnswer(status, hdr, body), &got, int64(64+int(limitPick)*16))
		_, err := occ.ModifyJSON(context.Background(), c, "http://api.test/items/1?api_key=s3cr3t-query-6c4d&private_token=s3cr3t-gitlab-2d7a",
			func(doc []byte) ([]byte, error) { return []byte(`{"n":2}`), nil })
		require.Error(t, err)
		got.addError(err)
		got.check(t)
	})
}

// fuzzClient is a client sending every secret, answered in memory by h,
// whose hooks and logs write into got, with error bodies cut at limit.
func fuzzClient(t *testing.T, h http.Handler, got *surfaces, limit int64) *occ.Client {
	logger := slog.New(slog.NewJSONHandler(&got.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: inProcess{h}}),
		occ.WithHooks(got.hooks()), occ.WithLogger(logger), occ.WithMaxErrorBody(limit),
		occ.WithMaxAttempts(2), occ.WithBackoff(occ.BackoffFunc(func(int) time.Duration { return 0 })),
		occ.WithTransientRetries(1, occ.BackoffFunc(func(int) time.Duration { return 0 })),
		occ.WithHeader("Authorization", fuzzSecrets[0]), occ.WithHeader("Proxy-Authorization", fuzzSecrets[1]),
		occ.WithHeader("Cookie", fuzzSecrets[2]), occ.WithHeader("X-Api-Key", fuzzSecrets[3]),
		occ.WithHeader("X-Amz-Security-Token", fuzzSecrets[4]))
	require.NoError(t, err)
	return c
}

// inProcess is a RoundTripper that serves requests with a handler, in
// process: header values reach occ exactly as the handler set them, even
// those the wire would refuse.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
