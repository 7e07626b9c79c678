package jsonmerge

import (
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tree(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	require.NoError(t, err)
	return v
}

func TestDecodeJSONRejectsTrailingData(t *testing.T) {
	_, err := Decode([]byte(`{"a":1} {"b":2}`))
	assert.Error(t, err)
	_, err = Decode([]byte(`{"a":`))
	assert.Error(t, err)
}

func TestDiffApplyRoundTrip(t *testing.T) {
	cases := []struct{ name, from, to string }{
		{"set member", `{"a":1,"b":2}`, `{"a":1,"b":3}`},
		{"add nested", `{"a":{}}`, `{"a":{"x":[1,2]}}`},
		{"remove", `{"a":1,"b":2}`, `{"a":1}`},
		{"set null", `{"a":1}`, `{"a":null}`},
		{"type change", `{"a":{"b":1}}`, `{"a":"flat"}`},
		{"escaped keys", `{"a/b":1,"c~d":2}`, `{"a/b":3,"c~d":4}`},
		{"array atomic", `{"a":[1,2,3]}`, `{"a":[1,3]}`},
		{"no change", `{"a":{"b":[1]}}`, `{"a":{"b":[1]}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to := tree(t, tc.from), tree(t, tc.to)
			got := applyChanges(deepCopy(from), Diff(from, to))
			assert.Equal(t, to, got)
		})
	}
}

func TestApplyChangesCreatesMissingParents(t *testing.T) {
	doc := tree(t, `{"keep":true}`)
	got := applyChanges(doc, []Change{{Path: []string{"meta", "labels", "x"}, Value: "y"}})
	assert.Equal(t, tree(t, `{"keep":true,"meta":{"labels":{"x":"y"}}}`), got)
}

func TestJSONPatchAppliesAndGuards(t *testing.T) {
	from := `{"a":1,"b":{"c":"x"},"d":[1],"gone":true,"k/~":0}`
	to := `{"a":2,"b":{"c":"x","e":null},"d":[2],"k/~":1}`
	p, err := jsonPatch(tree(t, from), tree(t, to), true)
	require.NoError(t, err)
	patch, err := jsonpatch.DecodePatch(p)
	require.NoError(t, err)
	out, err := patch.Apply([]byte(from))
	require.NoError(t, err)
	assert.JSONEq(t, to, string(out))

	// The guards make the patch fail on a document someone else changed.
	_, err = patch.Apply([]byte(`{"a":5,"b":{"c":"x"},"d":[1],"gone":true,"k/~":0}`))
	assert.Error(t, err)

	var ops []PatchOp
	require.NoError(t, json.Unmarshal(p, &ops))
	assert.Equal(t, "test", ops[0].Op)
}

func TestMergePatch(t *testing.T) {
	from := `{"a":1,"b":{"c":"x","d":1},"gone":true,"arr":[null,1]}`
	to := `{"a":2,"b":{"c":"x"},"arr":[null,2],"new":{"n":1}}`
	p, err := mergePatchTree(tree(t, from), tree(t, to))
	require.NoError(t, err)
	out, err := jsonpatch.MergePatch([]byte(from), p)
	require.NoError(t, err)
	assert.JSONEq(t, to, string(out))
}

func TestMergePatchRefusesNull(t *testing.T) {
	for _, to := range []string{`{"a":null}`, `{"n":{"x":null}}`} {
		_, err := mergePatchTree(tree(t, `{"a":1}`), tree(t, to))
		assert.ErrorIs(t, err, ErrMergePatchNull, to)
	}
}

// applyChanges applies changes to doc in order, as a test would by hand.
func applyChanges(doc any, changes []Change) any {
	for _, c := range changes {
		doc = Apply(doc, c.Path, c)
	}
	return doc
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
