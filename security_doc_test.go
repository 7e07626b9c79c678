package occ

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurityDocNamesRealTests: every test SECURITY.md cites as proof
// exists, so that a guarantee cannot lose its test unnoticed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	require.NoError(t, err)
	var sources strings.Builder
	for _, glob := range []string{"*_test.go", "otel/*_test.go", "cmd/occ/*_test.go"} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			sources.Write(b)
		}
	}
	names := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, names)
	for _, m := range names {
		assert.Contains(t, sources.String(), "func "+m[1]+"(", "SECURITY.md cites %s", m[1])
	}
}
