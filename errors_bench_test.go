package occ

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// rewindBody is a response body that can be replayed without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// BenchmarkParseConflict parses typical conflict answers, beside the floor
// of reading such a body at all: json.Unmarshal into a map. Compare with
//
//	go test -run '^$' -bench ParseConflict -benchmem -count 10 . | benchstat -col /impl -
func BenchmarkParseConflict(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"problem+json", "problem_json_duplicate.http"},
		{"k8s-status", "k8s_conflict.http"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "errors", bc.file))
		require.NoError(b, err)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		require.NoError(b, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(b, err)
		resp.Request, err = http.NewRequest("PUT", "https://api.example.com/things/1?token=x", nil)
		require.NoError(b, err)
		b.Run("body="+bc.name+"/impl=json-unmarshal", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]any
				if json.Unmarshal(body, &m) != nil {
					b.Fatal("not parsed")
				}
			}
		})
		b.Run("body="+bc.name+"/impl=occ", func(b *testing.B) {
			rb := &rewindBody{}
			resp.Body = rb
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rb.Reset(body)
				if parseConflict(resp, nil) == nil {
					b.Fatal("not parsed")
				}
			}
		})
	}
}
