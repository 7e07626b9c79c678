package occtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// exactNumbers are numbers that float64 cannot hold: every store operation
// must keep their text.
var exactNumbers = []string{"12345678901234567890", "1.000000000000000001", "-0.0", "1e400", "1.50"}

// numberDoc is a document holding every exact number, plus extra members.
func numberDoc(extra string) string {
	var b strings.Builder
	b.WriteString(`{"nums":[` + strings.Join(exactNumbers, ",") + `],"deep":{"x":12345678901234567891}`)
	b.WriteString(extra + `}`)
	return b.String()
}

// assertExact checks that doc still holds every exact number as written.
func assertExact(t *testing.T, doc []byte) {
	t.Helper()
	assert.Contains(t, string(doc), `[`+strings.Join(exactNumbers, ",")+`]`)
	assert.Contains(t, string(doc), `12345678901234567891`)
}

func TestNumbersKeepTheirText(t *testing.T) {
	t.Parallel()
	opts := []occtest.Option{occtest.WithVersionField("/v"), occtest.WithUnique("/id"),
		occtest.WithTransitions("/state", map[string][]string{"1.000000000000000001": {"1.000000000000000002"}})}
	tests := []struct {
		name string
		run  func(t *testing.T, srv *occtest.Server)
	}{
		{"Set", func(t *testing.T, srv *occtest.Server) {}},
		{"Update changing nothing", func(t *testing.T, srv *occtest.Server) {
			require.NoError(t, srv.Update("/c/1", func(map[string]any) {}))
		}},
		{"Update changing a number", func(t *testing.T, srv *occtest.Server) {
			require.NoError(t, srv.Update("/c/1", func(doc map[string]any) {
				n, err := doc["n"].(json.Number).Int64()
				require.NoError(t, err)
				doc["n"] = n + 1
			}))
		}},
		{"PUT", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "PUT", "/c/1", numberDoc(`,"n":2,"v":1,"id":12345678901234567890,"state":1.000000000000000001`))
			require.Equal(t, 200, resp.StatusCode, body)
			assertExact(t, []byte(body))
		}},
		{"merge PATCH", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "PATCH", "/c/1", `{"n":2,"more":1.000000000000000001}`, "Content-Type", "application/merge-patch+json")
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Contains(t, body, `"more":1.000000000000000001`)
		}},
		{"JSON PATCH with a test of an exact number", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "PATCH", "/c/1", `[{"op":"test","path":"/deep/x","value":12345678901234567891},{"op":"replace","path":"/n","value":2}]`, "Content-Type", "application/json-patch+json")
			require.Equal(t, 200, resp.StatusCode, body)
		}},
		{"unique numbers differing past float64 precision", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "POST", "/c", `{"id":12345678901234567891}`)
			require.Equal(t, 201, resp.StatusCode, "not a duplicate of ...890: %s", body)
			resp, body = send(t, srv, "POST", "/c", `{"id":12345678901234567891}`)
			require.Equal(t, 409, resp.StatusCode, "a duplicate: %s", body)
		}},
		{"transition between numbers float64 confuses", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "PATCH", "/c/1", `{"state":1.000000000000000002}`, "Content-Type", "application/merge-patch+json")
			require.Equal(t, 200, resp.StatusCode, body)
			resp, body = send(t, srv, "PATCH", "/c/1", `{"state":1}`, "Content-Type", "application/merge-patch+json")
			require.Equal(t, 409, resp.StatusCode, "1.000000000000000002 is final: %s", body)
		}},
		{"POST", func(t *testing.T, srv *occtest.Server) {
			resp, body := send(t, srv, "POST", "/c", numberDoc(""))
			require.Equal(t, 201, resp.StatusCode, body)
			assertExact(t, []byte(body))
			doc, _, _ := srv.Get("/c/2")
			assertExact(t, doc)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, opts...)
			require.NoError(t, srv.Set("/c/1", []byte(numberDoc(`,"n":1,"id":12345678901234567890,"state":1.000000000000000001`))))
			tt.run(t, srv)
			doc, _, ok := srv.Get("/c/1")
			require.True(t, ok)
			assertExact(t, doc)
			assert.Contains(t, string(doc), `"id":12345678901234567890`)
			resp, body := send(t, srv, "GET", "/c/1", "")
			require.Equal(t, 200, resp.StatusCode)
			assertExact(t, []byte(body))
		})
	}
}
