package jsonmerge

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRebaseKeepsTheDocumentsMembersInsideChangedArrays(t *testing.T) {
	t.Parallel()
	doc := `{"l":[{"k":"a","x":1,"n":12345678901234567891},{"k":"b","x":2},{"k":"c","x":3}],"m":[1,2]}`
	for name, tc := range map[string]struct{ after, want string }{
		"append": {`{"l":[{"k":"a"},{"k":"b"},{"k":"c"},{"k":"d"}],"m":[1,2]}`,
			`{"l":[{"k":"a","x":1,"n":12345678901234567891},{"k":"b","x":2},{"k":"c","x":3},{"k":"d"}],"m":[1,2]}`},
		"prepend": {`{"l":[{"k":"z"},{"k":"a"},{"k":"b"},{"k":"c"}],"m":[1,2]}`,
			`{"l":[{"k":"z"},{"k":"a","x":1,"n":12345678901234567891},{"k":"b","x":2},{"k":"c","x":3}],"m":[1,2]}`},
		"remove the middle": {`{"l":[{"k":"a"},{"k":"c"}],"m":[1,2]}`,
			`{"l":[{"k":"a","x":1,"n":12345678901234567891},{"k":"c","x":3}],"m":[1,2]}`},
		"edit in place": {`{"l":[{"k":"a"},{"k":"B"},{"k":"c"}],"m":[1,2]}`,
			`{"l":[{"k":"a","x":1,"n":12345678901234567891},{"k":"B","x":2},{"k":"c","x":3}],"m":[1,2]}`},
		"reverse": {`{"l":[{"k":"c"},{"k":"b"},{"k":"a"}],"m":[1,2]}`,
			`{"l":[{"k":"c","x":3},{"k":"b","x":2},{"k":"a","x":1,"n":12345678901234567891}],"m":[1,2]}`},
		"scalars": {`{"l":[{"k":"a"},{"k":"b"},{"k":"c"}],"m":[2,3]}`,
			`{"l":[{"k":"a","x":1,"n":12345678901234567891},{"k":"b","x":2},{"k":"c","x":3}],"m":[2,3]}`},
	} {
		out, err := Rebase([]byte(`{"l":[{"k":"a"},{"k":"b"},{"k":"c"}],"m":[1,2]}`), []byte(tc.after), []byte(doc))
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, string(out), name)
	}
}

func TestRebaseTakesAnArrayTheViewDoesNotModelElementForElementWhole(t *testing.T) {
	t.Parallel()
	out, err := Rebase([]byte(`{"l":[1]}`), []byte(`{"l":[1,2]}`), []byte(`{"l":[1,"x"]}`))
	require.NoError(t, err)
	assert.Equal(t, `{"l":[1,2]}`, string(out))
}

func TestRebaseNamesTheInvalidInput(t *testing.T) {
	t.Parallel()
	_, err := Rebase([]byte(`{}`), []byte(`{}`), []byte(`{`))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "theirs: "), err.Error())
}

func TestRebaseOfALongArrayPairsByPositionPastTheTableBound(t *testing.T) {
	t.Parallel()
	const n = 400 // n*n > maxAlignCells
	var view, after, doc []string
	for i := range n {
		view = append(view, fmt.Sprintf(`{"k":%d}`, i))
		doc = append(doc, fmt.Sprintf(`{"k":%d,"x":%d}`, i, i))
		after = append(after, fmt.Sprintf(`{"k":%d}`, (i+1)%n)) // every element changed
	}
	arr := func(es []string) []byte { return []byte("[" + strings.Join(es, ",") + "]") }
	out, err := Rebase(arr(view), arr(after), arr(doc))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), `[{"k":1,"x":0},{"k":2,"x":1},`), "paired by position")
}

// FuzzRebase checks Rebase on any three inputs: no panic; an error exactly
// when an input is invalid (or too deep); valid output; an unchanged view
// yields the document, and a view equal to the document yields the change.
func FuzzRebase(f *testing.F) {
	f.Add([]byte(`{"l":[{"k":1}]}`), []byte(`{"l":[{"k":2},{"k":1}]}`), []byte(`{"l":[{"k":1,"x":1e400}]}`))
	f.Add([]byte(`[1,2,3]`), []byte(`[3,2,1]`), []byte(`[1.0,2.0,3.0]`))
	f.Fuzz(func(t *testing.T, view, after, doc []byte) {
		out, err := Rebase(view, after, doc)
		valid := json.Valid(view) && json.Valid(after) && json.Valid(doc)
		if err != nil {
			if valid && !tooDeep(view, after, doc) {
				t.Fatalf("valid input rejected: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q", out)
		}
		if same, _ := Rebase(view, view, doc); !Equal(same, doc) {
			t.Fatalf("an unchanged view changed the document: %q", same)
		}
		if onto, _ := Rebase(after, doc, after); !Equal(onto, doc) {
			t.Fatalf("a view equal to the document did not yield the change: %q", onto)
		}
	})
}

// rebaseDocs returns a document of n lines with a member a view does not
// model, the view, and the view with one line changed and one appended.
func rebaseDocs(n int) (view, after, doc []byte) {
	var v, a, d []string
	for i := range n {
		v = append(v, fmt.Sprintf(`{"sku":"s%d","qty":%d}`, i, i))
		d = append(d, fmt.Sprintf(`{"sku":"s%d","qty":%d,"note":"kept %d","n":12345678901234567891}`, i, i, i))
		if i == n/2 {
			a = append(a, fmt.Sprintf(`{"sku":"s%d","qty":%d}`, i, i+1))
		} else {
			a = append(a, v[i])
		}
	}
	a = append(a, `{"sku":"new","qty":1}`)
	wrap := func(es []string) []byte { return []byte(`{"id":7,"lines":[` + strings.Join(es, ",") + `]}`) }
	return wrap(v), wrap(a), wrap(d)
}

// BenchmarkRebase compares Rebase, which keeps the lines' unmodelled
// members, with the merge the rebase was before (mine wins, arrays whole),
// in the same run: read the ratio, not the times.
func BenchmarkRebase(b *testing.B) {
	view, after, doc := rebaseDocs(1000)
	var mine Options
	mine.Prefer("", SideMine)
	b.Run("Rebase", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Rebase(view, after, doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MergePreferMine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Merge(&mine, view, after, doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
