package jsonmerge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestMergeKeepsBothSidesEdits(t *testing.T) {
	t.Parallel()
	out, conflicts, err := Merge(nil, []byte(`{"a":1,"b":1,"n":12345678901234567890}`),
		[]byte(`{"a":2,"b":1,"n":12345678901234567890}`), []byte(`{"a":1, "b":3, "n":12345678901234567890}`))
	require.NoError(t, err)
	require.Nil(t, conflicts)
	assert.Equal(t, `{"a":2,"b":3,"n":12345678901234567890}`, string(out), "compact, in theirs' order, numbers as written")
}

func TestMergeReportsConflictsAndTieBreaks(t *testing.T) {
	t.Parallel()
	base, mine, theirs := []byte(`{"a":{"x":1,"y":1}}`), []byte(`{"a":{"x":2,"y":2}}`), []byte(`{"a":{"x":3,"y":3}}`)
	_, conflicts, err := Merge(nil, base, mine, theirs)
	require.NoError(t, err)
	assert.Equal(t, []Conflict{
		{Path: "/a/x", Base: []byte(`1`), Mine: []byte(`2`), Theirs: []byte(`3`)},
		{Path: "/a/y", Base: []byte(`1`), Mine: []byte(`2`), Theirs: []byte(`3`)},
	}, conflicts)
	var o Options
	o.Prefer("", SideMine)
	o.Prefer("/a/y", SideTheirs)
	out, conflicts, err := Merge(&o, base, mine, theirs)
	require.NoError(t, err)
	assert.Nil(t, conflicts)
	assert.Equal(t, `{"a":{"x":2,"y":3}}`, string(out), "the longest pointer wins")
}

func TestMergeArraysByKey(t *testing.T) {
	t.Parallel()
	var o Options
	o.ArraysByKey("/lines", "sku")
	out, conflicts, err := Merge(&o, []byte(`{"lines":[{"sku":"a","n":1}]}`),
		[]byte(`{"lines":[{"sku":"a","n":2}]}`), []byte(`{"lines":[{"sku":"a","n":1},{"sku":"b","n":1}]}`))
	require.NoError(t, err)
	assert.Nil(t, conflicts)
	assert.Equal(t, `{"lines":[{"sku":"a","n":2},{"sku":"b","n":1}]}`, string(out))
}

func TestOptionsRecordTheFirstInvalidPointer(t *testing.T) {
	t.Parallel()
	var o Options
	o.ArraysByKey("lines", "sku")
	o.Prefer("/a~2", SideMine)
	require.Error(t, o.Err())
	assert.Contains(t, o.Err().Error(), `"lines"`)
	var ok Options
	ok.Prefer("/a~1b/0", SideMine)
	assert.NoError(t, ok.Err())
}

func TestMergeNamesTheInvalidInput(t *testing.T) {
	t.Parallel()
	for i, in := range [][3]string{{`{`, `{}`, `{}`}, {`{}`, `[1,]`, `{}`}, {`{}`, `{}`, `1 2`}} {
		_, _, err := Merge(nil, []byte(in[0]), []byte(in[1]), []byte(in[2]))
		require.Error(t, err)
		assert.Contains(t, err.Error(), []string{"base: ", "mine: ", "theirs: "}[i])
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	assert.True(t, Equal([]byte(`{"a":1, "b":[1.0]}`), []byte(`{"b":[1],"a":1e0}`)))
	assert.False(t, Equal([]byte(`{"a":1}`), []byte(`{"a":2}`)))
	assert.False(t, Equal([]byte(`{`), []byte(`{`)), "invalid documents are equal to nothing")
}
