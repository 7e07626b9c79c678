package occtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/occ-go/occ/occtest"
)

// FuzzServeHTTP sends arbitrary bodies and headers: the store must answer
// every one with a well-formed response and never panic. When the request
// carries an Idempotency-Key (m >= 128), a repeat must get the same answer
// and apply nothing.
func FuzzServeHTTP(f *testing.F) {
	f.Add(uint8(0), "/a", "application/json", `{"n":1}`, `"1"`)
	f.Add(uint8(1), "/a", "application/merge-patch+json", `{"n":null}`, `W/"1"`)
	f.Add(uint8(1), "/a", "application/json-patch+json", `[{"op":"copy","from":"","path":"/x"}]`, `*`)
	f.Add(uint8(2), "/", "text/plain", strings.Repeat("[", 20000), "")
	f.Add(uint8(1), "/a", "application/json-patch+json", strings.Repeat("[", 20000), "")
	f.Add(uint8(1), "/a", "application/json-patch+json", `[{"op":"add","path":"/x","value":`+strings.Repeat("[", 20000)+`}]`, "")
	f.Add(uint8(3), "/a/", "", `{}`, `"1", W/"2"`)
	f.Add(uint8(128), "/a", "application/json", `{"n":2,"v":1}`, `"1"`)
	f.Add(uint8(130), "/orders", "application/json", `{"n":12345678901234567890}`, "")
	f.Add(uint8(131), "/a", "", "", `"1"`)
	f.Fuzz(func(t *testing.T, m uint8, path, contentType, body, ifMatch string) {
		methods := []string{"PUT", "PATCH", "POST", "DELETE", "GET"}
		st := occtest.NewStore(occtest.WithVersionField("/v"), occtest.WithUnique("/n"),
			occtest.WithTransitions("/n", map[string][]string{}), occtest.WithLastModified(true))
		if err := st.Set("/a", []byte(`{"n":1,"o":{"p":[1,2]}}`)); err != nil {
			t.Fatal(err)
		}
		send := func() (int, []byte) {
			req, err := http.NewRequest(methods[int(m&127)%len(methods)], "http://occtest", strings.NewReader(body))
			if err != nil {
				t.Skip()
			}
			req.URL.Path = "/" + strings.TrimPrefix(path, "/")
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("If-Match", ifMatch)
			if m >= 128 {
				req.Header.Set("Idempotency-Key", "k")
			}
			resp, err := occtest.Transport(st).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 200 || resp.StatusCode > 499 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if len(out) > 0 && !json.Valid(out) {
				t.Fatalf("invalid JSON answer %q", out)
			}
			return resp.StatusCode, out
		}
		status, out := send()
		if m < 128 {
			return
		}
		writes := st.Writes()
		status2, out2 := send()
		if status2 != status || !bytes.Equal(out, out2) || st.Writes() != writes {
			t.Fatalf("repeat with the key: %d %s then %d %s, writes %d then %d", status, out, status2, out2, writes, st.Writes())
		}
	})
}
