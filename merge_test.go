package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mergeCase is one file of testdata/merge.
type mergeCase struct {
	Options struct {
		Prefer   string            `json:"prefer"`
		PreferAt map[string]string `json:"preferAt"`
		Keys     map[string]string `json:"keys"`
	} `json:"options"`
	Base, Mine, Theirs json.RawMessage
	Want               json.RawMessage
	Conflicts          []struct {
		Path               string
		Base, Mine, Theirs json.RawMessage
		Absent             []string
	}
}

// loadMergeCases reads every case in testdata/merge, by file name.
func loadMergeCases(t testing.TB) map[string]mergeCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "merge", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	cases := map[string]mergeCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var c mergeCase
		require.NoError(t, json.Unmarshal(b, &c), f)
		cases[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return cases
}

// options turns a case's options into ThreeWay options.
func (c mergeCase) options() []ThreeWayOption {
	var opts []ThreeWayOption
	switch c.Options.Prefer {
	case "mine":
		opts = append(opts, PreferMine())
	case "theirs":
		opts = append(opts, PreferTheirs())
	}
	for _, p := range sortedMapKeys(c.Options.PreferAt) {
		if c.Options.PreferAt[p] == "mine" {
			opts = append(opts, PreferMineAt(p))
		} else {
			opts = append(opts, PreferTheirsAt(p))
		}
	}
	for _, p := range sortedMapKeys(c.Options.Keys) {
		opts = append(opts, MergeArraysByKey(p, c.Options.Keys[p]))
	}
	return opts
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// requireCompactJSON fails unless b is valid JSON without insignificant
// whitespace.
func requireCompactJSON(t testing.TB, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, b), "result is not valid JSON: %s", b)
	require.Equal(t, buf.String(), string(b), "result is not compact")
}

func TestThreeWayCases(t *testing.T) {
	t.Parallel()
	for name, c := range loadMergeCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ThreeWay(c.options()...).Merge(context.Background(), c.Base, c.Mine, c.Theirs)
			if c.Conflicts == nil {
				require.NoError(t, err)
				requireCompactJSON(t, got)
				assert.JSONEq(t, string(c.Want), string(got))
				return
			}
			assert.Nil(t, got)
			require.ErrorIs(t, err, ErrMergeConflict)
			require.ErrorIs(t, err, ErrConflict)
			var mce *MergeConflictError
			require.ErrorAs(t, err, &mce)
			require.Len(t, mce.Conflicts, len(c.Conflicts), "conflicts: %+v", mce.Conflicts)
			for i, want := range c.Conflicts {
				got := mce.Conflicts[i]
				assert.Equal(t, want.Path, got.Path)
				assertSideValue(t, "base", want.Base, want.Absent, got.Base)
				assertSideValue(t, "mine", want.Mine, want.Absent, got.Mine)
				assertSideValue(t, "theirs", want.Theirs, want.Absent, got.Theirs)
			}
		})
	}
}

func assertSideValue(t *testing.T, side string, want json.RawMessage, absent []string, got json.RawMessage) {
	t.Helper()
	if slices.Contains(absent, side) {
		assert.Nil(t, got, "%s should be absent", side)
		return
	}
	require.NotNil(t, got, "%s should be present", side)
	requireCompactJSON(t, got)
	assert.JSONEq(t, string(want), string(got), side)
}

func TestThreeWayOutputOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, mine, theirs, want string
	}{
		{"theirs order then mine additions", `{"a":1,"b":2}`, `{"m2":1,"a":1,"b":2,"m1":1}`, `{"t":1,"b":2,"a":1}`, `{"t":1,"b":2,"a":1,"m2":1,"m1":1}`},
		{"unchanged subtrees verbatim", `{"o":{"z":1,"y":2},"n":1}`, `{"o":{"z":1,"y":2},"n":2}`, `{"o":{"z":1,"y":2},"n":1}`, `{"o":{"z":1,"y":2},"n":2}`},
		{"whitespace removed", `{ "a" : 1 }`, "{\n\t\"a\": 1,\n \"b\" : [ 1 , { } ]\n}", `{"a":1}`, `{"a":1,"b":[1,{}]}`},
		{"spaces in strings kept", `{"a":" x "}`, `{"a":" x ","b":" y "}`, `{ "a" : " x " }`, `{"a":" x ","b":" y "}`},
		{"deleted member leaves no comma", `{"a":1,"b":2,"c":3}`, `{"b":2,"c":3}`, `{"a":1,"b":2}`, `{"b":2}`},
		{"everything deleted", `{"a":1,"b":2}`, `{"b":2}`, `{"a":1}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ThreeWay().Merge(context.Background(), []byte(tt.base), []byte(tt.mine), []byte(tt.theirs))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestThreeWayInvalidInput(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	tests := []struct {
		name, base, mine, theirs string
	}{
		{"empty base", ``, `{}`, `{}`},
		{"empty mine", `{}`, ``, `{}`},
		{"truncated theirs", `{}`, `{}`, `{"a":`},
		{"trailing data", `{}`, `{} {}`, `{}`},
		{"bad literal", `{"a":tru}`, `{}`, `{}`},
		{"too deep", `{}`, `{}`, deep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ThreeWay().Merge(context.Background(), []byte(tt.base), []byte(tt.mine), []byte(tt.theirs))
			require.ErrorIs(t, err, ErrInvalidMergeInput)
			assert.NotErrorIs(t, err, ErrConflict)
			assert.Nil(t, got)
		})
	}
}

func TestThreeWayInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  ThreeWayOption
	}{
		{"no leading slash", PreferMineAt("a/b")},
		{"bad escape", PreferTheirsAt("/a~2")},
		{"dangling tilde", MergeArraysByKey("/a~", "id")},
		{"nil option", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ThreeWay(PreferMine(), tt.opt)
			got, err := m.Merge(context.Background(), []byte(`{}`), []byte(`{}`), []byte(`{}`))
			require.ErrorIs(t, err, ErrInvalidMergeOption)
			assert.Nil(t, got)
		})
	}
}

func TestThreeWayOptionsLastWins(t *testing.T) {
	t.Parallel()
	base, mine, theirs := []byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3}`)
	got, err := ThreeWay(PreferMine(), PreferTheirs()).Merge(context.Background(), base, mine, theirs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":3}`, string(got))
	got, err = ThreeWay(PreferTheirsAt("/a"), PreferMineAt("/a")).Merge(context.Background(), base, mine, theirs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":2}`, string(got))
}

func TestThreeWayDefaultArrayKey(t *testing.T) {
	t.Parallel()
	base := []byte(`[{"id":1,"a":0,"b":0}]`)
	mine := []byte(`[{"id":1,"a":1,"b":0}]`)
	theirs := []byte(`[{"id":1,"a":0,"b":1}]`)
	got, err := ThreeWay(MergeArraysByKey("", "")).Merge(context.Background(), base, mine, theirs)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"id":1,"a":1,"b":1}]`, string(got))
}

func TestThreeWayContextDone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ThreeWay().Merge(ctx, []byte(`{}`), []byte(`{}`), []byte(`{}`))
	require.ErrorIs(t, err, context.Canceled)
}

func TestThreeWayConcurrentUse(t *testing.T) {
	t.Parallel()
	m := ThreeWay(MergeArraysByKey("/items", "id"), PreferTheirsAt("/x"))
	base := []byte(`{"items":[{"id":1,"a":0}],"x":0,"y":0}`)
	mine := []byte(`{"items":[{"id":1,"a":1}],"x":1,"y":0}`)
	theirs := []byte(`{"items":[{"id":1,"a":0},{"id":2}],"x":2,"y":1}`)
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	for i := range results {
		wg.Go(func() {
			out, err := m.Merge(context.Background(), base, mine, theirs)
			if err == nil {
				results[i] = out
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		assert.JSONEq(t, `{"items":[{"id":1,"a":1},{"id":2}],"x":2,"y":1}`, string(r))
	}
}

func TestThreeWayConflictValuesAreCopies(t *testing.T) {
	t.Parallel()
	base, mine, theirs := []byte(`{"a":"b"}`), []byte(`{"a":"m"}`), []byte(`{"a":"t"}`)
	_, err := ThreeWay().Merge(context.Background(), base, mine, theirs)
	var mce *MergeConflictError
	require.ErrorAs(t, err, &mce)
	copy(mine, `{"a":"X"}`)
	copy(theirs, `{"a":"X"}`)
	assert.Equal(t, `"m"`, string(mce.Conflicts[0].Mine))
	assert.Equal(t, `"t"`, string(mce.Conflicts[0].Theirs))
}

func TestMergeConflictError(t *testing.T) {
	t.Parallel()
	e := &MergeConflictError{Conflicts: []PathConflict{{Path: "/a"}, {Path: "/b~1c"}}}
	assert.ErrorIs(t, e, ErrMergeConflict)
	assert.ErrorIs(t, e, ErrConflict)
	assert.NotErrorIs(t, e, ErrPreconditionFailed)
	assert.Contains(t, e.Error(), "/a")
	assert.Contains(t, e.Error(), "/b~1c")
	assert.NotEmpty(t, (&MergeConflictError{}).Error())
	var wrapped error = errors.Join(errors.New("x"), e)
	var got *MergeConflictError
	require.ErrorAs(t, wrapped, &got)
	assert.Same(t, e, got)
}

func TestLastWriteWins(t *testing.T) {
	t.Parallel()
	got, err := LastWriteWins().Merge(context.Background(), []byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3,"b":1}`))
	require.NoError(t, err)
	assert.Equal(t, `{"a":2}`, string(got))
}

func TestMergeFunc(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var m Merger = MergeFunc(func(_ context.Context, base, mine, theirs []byte) ([]byte, error) {
		if string(base) == "fail" {
			return nil, boom
		}
		return slices.Concat(base, mine, theirs), nil
	})
	got, err := m.Merge(context.Background(), []byte("a"), []byte("b"), []byte("c"))
	require.NoError(t, err)
	assert.Equal(t, "abc", string(got))
	_, err = m.Merge(context.Background(), []byte("fail"), nil, nil)
	require.ErrorIs(t, err, boom)
}
