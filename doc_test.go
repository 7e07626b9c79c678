package occ

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docOf returns the package doc and the doc comment of each function of
// the package's non-test files.
func docOf(t *testing.T) (string, map[string]string) {
	t.Helper()
	fset := token.NewFileSet()
	funcs := map[string]string{}
	var pkg string
	for _, name := range []string{"doc.go", "options.go"} {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		if f.Doc != nil {
			pkg += f.Doc.Text()
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
				funcs[fd.Name.Name] = fd.Doc.Text()
			}
		}
	}
	return strings.Join(strings.Fields(pkg), " "), funcs
}

func TestThePackageDocDescribesTheDefaultConflictBackoff(t *testing.T) {
	t.Parallel()
	pkg, funcs := docOf(t)
	c, err := New()
	require.NoError(t, err)
	require.Nil(t, c.defaults.backoff, "the default conflict backoff is the pacer (conflictWait's nil case)")

	assert.Contains(t, pkg, "paced by how long one retry takes (the default; see [WithBackoff]",
		"the package doc says the default is the pacer and links the option that documents it")
	assert.NotContains(t, strings.ToLower(pkg), "jittered exponential backoff", "the pacer is not exponential")
	assert.Contains(t, strings.Join(strings.Fields(funcs["WithBackoff"]), " "),
		"The default paces retries by the server", "WithBackoff documents the default the package doc points to")
}

func TestErrNoVersionPointsToWithWeakETags(t *testing.T) {
	t.Parallel()
	weakOnly := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `W/"1"`)
		_, _ = w.Write([]byte(`{"name":"a","count":1}`))
	})
	_, err := Modify(context.Background(), memClient(t, weakOnly), itemURL, incr)
	require.ErrorIs(t, err, ErrNoVersion)
	assert.Contains(t, err.Error(), "WithWeakETags", "the text says what to do about a weak ETag")
}
