package realservers

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKubeRecipeDocumented checks that RECIPES.md's Kubernetes recipe is the
// code these tests run: each block between "// recipe:NAME begin" and
// "// recipe:NAME end" in kube_client_test.go and kube_recipe_test.go
// appears in it word for word.
func TestKubeRecipeDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../RECIPES.md")
	require.NoError(t, err)
	for _, f := range []struct{ file, name string }{{"kube_client_test.go", "http"}, {"kube_recipe_test.go", "occ"}} {
		src, err := os.ReadFile(f.file)
		require.NoError(t, err)
		_, rest, ok := strings.Cut(string(src), "// recipe:"+f.name+" begin\n")
		require.True(t, ok, f.file)
		block, _, ok := strings.Cut(rest, "// recipe:"+f.name+" end")
		require.True(t, ok, f.file)
		block = strings.TrimSpace(block)
		require.NotEmpty(t, block)
		assert.Contains(t, string(doc), block, "RECIPES.md holds %s's recipe:%s block", f.file, f.name)
	}
}
