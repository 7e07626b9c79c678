package occ

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

func TestLicenseIsMIT(t *testing.T) {
	t.Parallel()
	l := readFile(t, "LICENSE")
	assert.True(t, strings.HasPrefix(l, "MIT License\n"))
	assert.Contains(t, l, "Copyright (c) 2026 The occ authors")
	assert.Contains(t, l, `THE SOFTWARE IS PROVIDED "AS IS"`)
}

// TestReadmeReadsTopDown checks the newcomer's path through README.md: what
// occ is, how to get it and which Go it needs, the quickstart, the two
// commands, then testing, recipes, behaviour, details, benchmarks and
// internals, in that order.
func TestReadmeReadsTopDown(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readFile(t, "go.mod"))
	require.Len(t, goLine, 2)
	assert.True(t, strings.Contains(readme, "\n    go get github.com/occ-go/occ\n"), "go get")
	assert.True(t, strings.Contains(readme, "Go "+goLine[1]+" or later"), "minimum Go version %s", goLine[1])
	last := 0
	for _, h := range []string{"\n## Install\n", "\n## Quickstart\n", "\n## The two commands\n",
		"\n## Testing your code with occtest\n", "\n## Recipes for real APIs\n", "\n## Behaviour\n",
		"\n## Details\n", "\n## Benchmarks\n", "\n## Internals\n"} {
		i := strings.Index(readme, h)
		require.GreaterOrEqual(t, i, 0, "missing %q", h)
		assert.Greater(t, i, last, "%q out of order", h)
		last = i
	}
	lineOf := func(h string) int { return strings.Count(readme[:strings.Index(readme, h)], "\n") + 1 }
	assert.Less(t, lineOf("\n## Quickstart\n"), 40, "the quickstart on the first screen")
	assert.Less(t, lineOf("\n## Testing your code with occtest\n"), 150, "testing comes early, not after the internals")
	assert.Less(t, strings.Count(readme, "\n"), 667, "shorter than when a newcomer found it too long; reference material lives in docs/")
}

// TestReadmeQuickstartIsTheExample checks that the README's first Go block
// is the package's Example, which go test runs.
func TestReadmeQuickstartIsTheExample(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(readme)
	require.Len(t, block, 2)
	example := regexp.MustCompile(`(?ms)^func Example\(\) \{\n.*?^\}\n`).FindString(readFile(t, "example_test.go"))
	require.NotEmpty(t, example)
	assert.Equal(t, example, block[1])
}

// TestReadmeOcctestSectionIsTheExample checks that the README's occtest
// example is occtest's ExampleStore_BeforeNextWrite, which go test runs.
func TestReadmeOcctestSectionIsTheExample(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	i := strings.Index(readme, "\n## Testing your code with occtest\n")
	require.GreaterOrEqual(t, i, 0)
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(readme[i:])
	require.Len(t, block, 2)
	fn := regexp.MustCompile(`(?ms)^func ExampleStore_BeforeNextWrite\(\) \{\n(.*?)^\}\n`).FindStringSubmatch(readFile(t, "occtest/example_test.go"))
	require.Len(t, fn, 2)
	body := regexp.MustCompile(`(?m)^\t`).ReplaceAllString(fn[1], "")
	assert.True(t, strings.HasSuffix(block[1], body), "the README shows the example's body:\n%s", body)
}

// TestReadmeCommandsAreCIs checks the two commands: the demo, and the test
// command exactly as .ci/run runs it.
func TestReadmeCommandsAreCIs(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	ci := readFile(t, ".ci/run")
	m := regexp.MustCompile(`(?m)^echo "== tests.*\n(.*)$`).FindStringSubmatch(ci)
	require.Len(t, m, 2, "the test step of .ci/run")
	assert.Equal(t, "go test -race ./...", m[1])
	assert.True(t, strings.Contains(readme, "\n    "+m[1]+"\n"), "the test command")
	assert.True(t, strings.Contains(readme, "\n    go run ./cmd/occ demo\n"), "the demo command")
}
