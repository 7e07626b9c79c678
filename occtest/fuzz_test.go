package occtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/occ-go/occ/occtest"
)

// FuzzServeHTTP sends arbitrary bodies and headers: the store must answer
// every one with a well-formed response and never panic.
func FuzzServeHTTP(f *testing.F) {
	f.Add(uint8(0), "/a", "application/json", `{"n":1}`, `"1"`)
	f.Add(uint8(1), "/a", "application/merge-patch+json", `{"n":null}`, `W/"1"`)
	f.Add(uint8(1), "/a", "application/json-patch+json", `[{"op":"copy","from":"","path":"/x"}]`, `*`)
	f.Add(uint8(2), "/", "text/plain", strings.Repeat("[", 20000), "")
	f.Add(uint8(1), "/a", "application/json-patch+json", strings.Repeat("[", 20000), "")
	f.Add(uint8(1), "/a", "application/json-patch+json", `[{"op":"add","path":"/x","value":`+strings.Repeat("[", 20000)+`}]`, "")
	f.Add(uint8(3), "/a/", "", `{}`, `"1", W/"2"`)
	f.Fuzz(func(t *testing.T, m uint8, path, contentType, body, ifMatch string) {
		methods := []string{"PUT", "PATCH", "POST", "DELETE", "GET"}
		st := occtest.NewStore(occtest.WithVersionField("/v"), occtest.WithUnique("/n"),
			occtest.WithTransitions("/n", map[string][]string{}), occtest.WithLastModified(true))
		if err := st.Set("/a", []byte(`{"n":1,"o":{"p":[1,2]}}`)); err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://occtest", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.Path = "/" + strings.TrimPrefix(path, "/")
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("If-Match", ifMatch)
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
	})
}
