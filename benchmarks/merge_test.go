package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/occ-go/occ/internal/benchdocs"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/mergepatch"
)

// floor is the least any merge costs: decoding the three documents and
// encoding one.
func floor(base, mine, theirs []byte) ([]byte, error) {
	var b, m, t any
	for _, d := range []struct {
		in  []byte
		out *any
	}{{base, &b}, {mine, &m}, {theirs, &t}} {
		if err := json.Unmarshal(d.in, d.out); err != nil {
			return nil, err
		}
	}
	return json.Marshal(t)
}

var errOffTheShelfConflict = errors.New("off-the-shelf merge: conflict")

// offTheShelf is the field-level three-way merge a Go engineer would
// assemble from json-patch and Kubernetes' mergepatch.
func offTheShelf(base, mine, theirs []byte) ([]byte, error) {
	pm, err := jsonpatch.CreateMergePatch(base, mine)
	if err != nil {
		return nil, err
	}
	pt, err := jsonpatch.CreateMergePatch(base, theirs)
	if err != nil {
		return nil, err
	}
	var dm, dt map[string]any
	if err := json.Unmarshal(pm, &dm); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(pt, &dt); err != nil {
		return nil, err
	}
	conflict, err := mergepatch.HasConflicts(dm, dt)
	if err != nil {
		return nil, err
	}
	if conflict {
		return nil, errOffTheShelfConflict
	}
	out, err := jsonpatch.MergePatch(base, pm)
	if err != nil {
		return nil, err
	}
	return jsonpatch.MergePatch(out, pt)
}

var occMerger = occ.ThreeWay()

func occMerge(base, mine, theirs []byte) ([]byte, error) {
	return occMerger.Merge(context.Background(), base, mine, theirs)
}

func BenchmarkMerge(b *testing.B) {
	impls := []struct {
		name  string
		merge func(base, mine, theirs []byte) ([]byte, error)
	}{{"floor", floor}, {"offtheshelf", offTheShelf}, {"occ", occMerge}}
	for _, size := range benchdocs.Sizes {
		base, mine, theirs := benchdocs.Docs(size.Bytes)
		for _, impl := range impls {
			b.Run(size.Name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(base)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.merge(base, mine, theirs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSameResult checks that occ and the off-the-shelf merge agree on the
// benchmark documents, and that the result holds both sides' edits.
func TestSameResult(t *testing.T) {
	t.Parallel()
	for _, size := range benchdocs.Sizes {
		t.Run(size.Name, func(t *testing.T) {
			t.Parallel()
			base, mine, theirs := benchdocs.Docs(size.Bytes)
			require.InDelta(t, size.Bytes, len(base), float64(size.Bytes)/4+400)
			want, err := offTheShelf(base, mine, theirs)
			require.NoError(t, err)
			got, err := occMerge(base, mine, theirs)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
			assert.NotEqual(t, decode(t, got), decode(t, mine))
			assert.NotEqual(t, decode(t, got), decode(t, theirs))
			assertEditsKept(t, base, mine, got)
			assertEditsKept(t, base, theirs, got)
		})
	}
}

// assertEditsKept checks that every leaf side changed from base has side's
// value in got.
func assertEditsKept(t *testing.T, base, side, got []byte) {
	t.Helper()
	b, s, g := decode(t, base), decode(t, side), decode(t, got)
	changed := 0
	for _, p := range benchdocs.LeafPaths(s, nil, nil) {
		if lookup(b, p) != lookup(s, p) {
			changed++
			assert.Equal(t, lookup(s, p), lookup(g, p), "%v", p)
		}
	}
	assert.Positive(t, changed)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func lookup(doc map[string]any, path []string) any {
	for _, k := range path[:len(path)-1] {
		doc = doc[k].(map[string]any)
	}
	return doc[path[len(path)-1]]
}
