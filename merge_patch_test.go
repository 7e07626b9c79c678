package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeJSONPatchAppliesToTheirs(t *testing.T) {
	t.Parallel()
	for name, c := range loadMergeCases(t) {
		if c.Conflicts != nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			theirs := compactForTest(t, c.Theirs)
			merged, err := ThreeWay(c.options()...).Merge(context.Background(), c.Base, c.Mine, theirs)
			require.NoError(t, err)
			p, err := mergeJSONPatch(theirs, merged)
			require.NoError(t, err)
			patch, err := jsonpatch.DecodePatch(p)
			require.NoError(t, err)
			got, err := patch.Apply(theirs)
			require.NoError(t, err)
			assert.JSONEq(t, string(merged), string(got))
		})
	}
}

func compactForTest(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, json.Compact(&out, b))
	return out.Bytes()
}

func TestMergeJSONPatchGuards(t *testing.T) {
	t.Parallel()
	base := []byte(`{"a":1,"b":{"c":1},"d":1}`)
	mine := []byte(`{"a":2,"b":{"c":1},"d":1}`)
	theirs := []byte(`{"a":1,"b":{"c":2},"d":1}`)
	merged, err := ThreeWay().Merge(context.Background(), base, mine, theirs)
	require.NoError(t, err)
	p, err := mergeJSONPatch(theirs, merged)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"op":"test","path":"/a","value":1},{"op":"replace","path":"/a","value":2}]`, string(p))
	patch, err := jsonpatch.DecodePatch(p)
	require.NoError(t, err)
	_, err = patch.Apply([]byte(`{"a":5,"b":{"c":2},"d":1}`))
	require.Error(t, err, "a guarded patch must fail where the member changed again")
	got, err := patch.Apply([]byte(`{"a":1,"b":{"c":2},"d":7}`))
	require.NoError(t, err, "changes elsewhere do not trip the guard")
	assert.JSONEq(t, `{"a":2,"b":{"c":2},"d":7}`, string(got))
}

func TestMergeMergePatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, theirs, merged, want string
		wantErr                    error
	}{
		{"change and delete", `{"a":1,"b":{"c":1,"d":2}}`, `{"a":2,"b":{"c":1}}`, `{"a":2,"b":{"d":null}}`, nil},
		{"add", `{"a":1}`, `{"a":1,"n":[1]}`, `{"n":[1]}`, nil},
		{"null is not expressible", `{"a":1}`, `{"a":null}`, ``, errMergePatchNull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := mergeMergePatch([]byte(tt.theirs), []byte(tt.merged))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(p))
			got, err := jsonpatch.MergePatch([]byte(tt.theirs), p)
			require.NoError(t, err)
			assert.JSONEq(t, tt.merged, string(got))
		})
	}
}

func TestMergePatchRejectsInvalidJSON(t *testing.T) {
	t.Parallel()
	_, err := mergeJSONPatch([]byte(`{`), []byte(`{}`))
	require.Error(t, err)
	_, err = mergeMergePatch([]byte(`{}`), []byte(`{`))
	require.Error(t, err)
}
