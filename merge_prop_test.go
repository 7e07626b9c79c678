package occ

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/occ-go/occ/internal/jsonmerge"
	"github.com/occ-go/occ/internal/jsonptr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// propIterations bounds every property test.
const propIterations = 400

// docGen makes random JSON documents and edits from a fixed seed.
type docGen struct{ r *rand.Rand }

func newDocGen(seed uint64) *docGen {
	return &docGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var propKeys = []string{"a", "b", "c", "id", "a/b", "~x", "ü", "名", "x y", ""}

// scalar returns a value from a small pool, so that two sides sometimes
// pick the same one.
func (g *docGen) scalar() any {
	pool := []any{nil, true, false, 0.0, 1.0, 2.5, "", "x", "y", []any{}, []any{1.0, "x"}, map[string]any{}}
	return pool[g.r.IntN(len(pool))]
}

func (g *docGen) object(depth int) map[string]any {
	o := map[string]any{}
	for range g.r.IntN(5) + 1 {
		k := propKeys[g.r.IntN(len(propKeys))]
		if depth > 0 && g.r.IntN(3) == 0 {
			o[k] = g.object(depth - 1)
		} else {
			o[k] = g.scalar()
		}
	}
	return o
}

// paths returns the paths of doc's non-object values (leaves) and of its
// objects, in sorted order.
func paths(doc any, prefix []string, leaves, objects *[][]string) {
	o, ok := doc.(map[string]any)
	if !ok {
		*leaves = append(*leaves, clonePath(prefix))
		return
	}
	*objects = append(*objects, clonePath(prefix))
	for _, k := range sortedKeys(o) {
		paths(o[k], append(prefix, k), leaves, objects)
	}
}

// edit is a change at one path: set to value, or delete.
type edit struct {
	path   []string
	value  any
	delete bool
}

// edits picks edits for the leaves at the given indexes, and adds new
// members named with prefix under random objects.
func (g *docGen) edits(doc any, leafIdx []int, addPrefix string) []edit {
	var leaves, objects [][]string
	paths(doc, nil, &leaves, &objects)
	var out []edit
	for _, i := range leafIdx {
		old, _ := jsonptr.Lookup(doc, leaves[i])
		e := edit{path: leaves[i], delete: g.r.IntN(4) == 0}
		for !e.delete && reflect.DeepEqual(e.value, old) {
			e.value = g.scalar()
		}
		out = append(out, e)
	}
	for j := range g.r.IntN(3) {
		parent := objects[g.r.IntN(len(objects))]
		out = append(out, edit{path: appendPath(parent, fmt.Sprint(addPrefix, j)), value: g.scalar()})
	}
	return out
}

// applyEdits returns a copy of doc with edits applied.
func applyEdits(t *testing.T, doc any, edits []edit) any {
	t.Helper()
	cp := deepCopy(doc)
	for _, e := range edits {
		cp = jsonmerge.Apply(cp, e.path, jsonmerge.Change{Path: e.path, Value: deepCopy(e.value), Remove: e.delete})
	}
	return cp
}

func marshalT(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func requireSameJSON(t *testing.T, want any, got []byte, msgAndArgs ...any) {
	t.Helper()
	requireCompactJSON(t, got)
	var g any
	require.NoError(t, json.Unmarshal(got, &g))
	require.Equal(t, deepCopy(want), g, msgAndArgs...)
}

// leafCount returns how many leaves doc has.
func leafCount(doc any) int {
	var leaves, objects [][]string
	paths(doc, nil, &leaves, &objects)
	return len(leaves)
}

func TestThreeWayPropertyDisjointEditsMerge(t *testing.T) {
	t.Parallel()
	g := newDocGen(1)
	for i := range propIterations {
		base := g.object(3)
		perm := g.r.Perm(leafCount(base))
		cut := g.r.IntN(len(perm) + 1)
		mineEdits := g.edits(base, perm[:cut], "m")
		theirEdits := g.edits(base, perm[cut:], "t")
		mine, theirs := applyEdits(t, base, mineEdits), applyEdits(t, base, theirEdits)
		want := applyEdits(t, base, append(slices.Clone(mineEdits), theirEdits...))
		got, err := ThreeWay().Merge(context.Background(), marshalT(t, base), marshalT(t, mine), marshalT(t, theirs))
		require.NoError(t, err, "iteration %d", i)
		requireSameJSON(t, want, got, "iteration %d", i)
	}
}

func TestThreeWayPropertyOneSideUnchanged(t *testing.T) {
	t.Parallel()
	g := newDocGen(2)
	for i := range propIterations {
		base := g.object(3)
		other := applyEdits(t, base, g.edits(base, g.r.Perm(leafCount(base))[:g.r.IntN(leafCount(base)+1)], "n"))
		b, o := marshalT(t, base), marshalT(t, other)
		got, err := ThreeWay().Merge(context.Background(), b, o, b)
		require.NoError(t, err, "iteration %d", i)
		requireSameJSON(t, other, got, "merge(base, mine, base) == mine, iteration %d", i)
		got, err = ThreeWay().Merge(context.Background(), b, b, o)
		require.NoError(t, err, "iteration %d", i)
		requireSameJSON(t, other, got, "merge(base, base, theirs) == theirs, iteration %d", i)
	}
}

func TestThreeWayPropertyConflictsExactlyWhereBothDiffer(t *testing.T) {
	t.Parallel()
	g := newDocGen(3)
	conflicted := 0
	for i := range propIterations {
		base := g.object(3)
		n := leafCount(base)
		mineEdits := g.edits(base, g.r.Perm(n)[:g.r.IntN(n+1)], "n")
		theirEdits := g.edits(base, g.r.Perm(n)[:g.r.IntN(n+1)], "n")
		mine, theirs := applyEdits(t, base, mineEdits), applyEdits(t, base, theirEdits)
		want := wantConflicts(t, mine, theirs, mineEdits, theirEdits)
		got, err := ThreeWay().Merge(context.Background(), marshalT(t, base), marshalT(t, mine), marshalT(t, theirs))
		if len(want) == 0 {
			require.NoError(t, err, "iteration %d", i)
			requireSameJSON(t, applyEdits(t, base, append(slices.Clone(mineEdits), theirEdits...)), got)
			continue
		}
		conflicted++
		var mce *MergeConflictError
		require.ErrorAs(t, err, &mce, "iteration %d", i)
		var gotPaths []string
		for _, c := range mce.Conflicts {
			gotPaths = append(gotPaths, c.Path)
		}
		slices.Sort(gotPaths)
		assert.Equal(t, want, gotPaths, "iteration %d", i)
	}
	assert.Greater(t, conflicted, propIterations/10, "too few conflicting cases generated")
}

// wantConflicts returns, sorted, the pointers both sides edited to different
// results.
func wantConflicts(t *testing.T, mine, theirs any, mineEdits, theirEdits []edit) []string {
	t.Helper()
	var out []string
	for _, me := range mineEdits {
		for _, te := range theirEdits {
			if !slices.Equal(me.path, te.path) {
				continue
			}
			mv, mok := jsonptr.Lookup(mine, me.path)
			tv, tok := jsonptr.Lookup(theirs, te.path)
			if mok != tok || !reflect.DeepEqual(mv, tv) {
				out = append(out, jsonptr.Format(me.path))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deepCopy copies a decoded JSON tree.
func deepCopy(v any) any {
	switch n := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(n))
		for k, e := range n {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(n))
		for i, e := range n {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func clonePath(path []string) []string { return append([]string(nil), path...) }

func appendPath(path []string, k string) []string { return append(clonePath(path), k) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
