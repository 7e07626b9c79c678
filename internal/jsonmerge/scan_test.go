package jsonmerge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/occ-go/occ/internal/benchdocs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`100`, `1E2`, true},
		{`0.5`, `5e-1`, true},
		{`-0`, `0`, true},
		{`0.0`, `-0e5`, true},
		{`1`, `-1`, false},
		{`12`, `1.2`, false},
		{`1e400`, `10e399`, true},
		{`"A"`, `"\u0041"`, true},
		{`"a"`, `"b"`, false},
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2.0],"a":1}`, true},
		{`{"a":1}`, `{"a":1,"b":1}`, false},
		{`{"a":1,"b":1}`, `{"a":1,"c":1}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`[1]`, `[1,1]`, false},
		{`null`, `false`, false},
		{`true`, `false`, false},
		{`"1"`, `1`, false},
		{`{}`, `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, jsonEqual([]byte(tt.a), []byte(tt.b)))
			assert.Equal(t, tt.want, jsonEqual([]byte(tt.b), []byte(tt.a)))
		})
	}
}

func TestJSONEqualAbsent(t *testing.T) {
	t.Parallel()
	assert.True(t, jsonEqual(nil, nil))
	assert.False(t, jsonEqual(nil, []byte(`null`)))
	assert.False(t, jsonEqual([]byte(`null`), nil))
}

func TestMemberIndexLargeObjects(t *testing.T) {
	t.Parallel()
	var a, b strings.Builder
	a.WriteString("{")
	b.WriteString("{")
	for i := range 40 {
		if i > 0 {
			a.WriteString(",")
			b.WriteString(",")
		}
		a.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
		b.WriteString(`"k` + strings.Repeat("x", 39-i) + `":1`)
	}
	a.WriteString("}")
	b.WriteString("}")
	assert.True(t, jsonEqual([]byte(a.String()), []byte(b.String())))
	assert.False(t, jsonEqual([]byte(a.String()), []byte(strings.Replace(b.String(), `"kx":1`, `"kx":2`, 1))))
}

// scanSeeds are inputs for the validator, valid and not.
var scanSeeds = []string{
	``, ` `, `1`, ` 1 `, `-`, `-0`, `-01`, `01`, `0.`, `0.1`, `1e`, `1e+`, `1E-7`, `1.5e10`, `.5`, `+1`,
	`"`, `""`, `"\`, `"\"`, `"\u12"`, `"\u12g4"`, `"\u00e9"`, `"\x"`, "\"\t\"", "\"\x7f\xff\"", `"\/\b\f\n\r\t"`,
	`t`, `tru`, `true`, `truex`, `nul`, `null`, `false`, `fals`,
	`{`, `{}`, `{ }`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}`, "{\n\"a\" :\t[ 1 , 2 ]\r}",
	`[`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[1,[2,{"x":[]}]]`, `[}`, `{]`, `[1]]`, `{"a":1}}`, `1 2`, `{} x`,
}

func TestScanJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			checkScan(t, []byte(s))
		})
	}
}

func TestScanJSONDepthLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{maxMergeDepth, true}, {maxMergeDepth + 1, false}} {
		for _, open := range []string{"[", `{"a":`} {
			closer := map[string]string{"[": "]", `{"a":`: "}"}[open]
			doc := []byte(strings.Repeat(open, tt.depth) + "1" + strings.Repeat(closer, tt.depth))
			_, _, err := scanJSON(doc)
			assert.Equal(t, tt.ok, err == nil, "depth %d %s: %v", tt.depth, open, err)
			assert.Equal(t, json.Valid(doc), err == nil)
		}
	}
}

func TestScanJSONListsTopLevelMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want []string // key, value, key, value...
	}{
		{`{"a":1,"b":{"c":[1,{"d":2}],"e":"}"},"f":[]}`, []string{`"a"`, `1`, `"b"`, `{"c":[1,{"d":2}],"e":"}"}`, `"f"`, `[]`}},
		{`{"a":{}}`, []string{`"a"`, `{}`}},
		{`{}`, nil},
		{`[{"a":1}]`, nil},
		{`{ "a":1}`, nil}, // not compact: offsets would not hold
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			t.Parallel()
			sc, _, err := scanJSON([]byte(tt.doc))
			require.NoError(t, err)
			var got []string
			for _, m := range sc.members {
				got = append(got, string(m.key), string(m.val))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScanJSONRecordsContainerEnds(t *testing.T) {
	t.Parallel()
	big := `"` + strings.Repeat("x", tapeMin) + `"`
	doc := []byte(`{"a":[1,{"b":"]}","x":` + big + `},[]],"c":{},"d":{"e":[[` + big + `]]},"f":[1]}`)
	sc, space, err := scanJSON(doc)
	require.NoError(t, err)
	require.False(t, space)
	require.Len(t, sc.spans, 6, "small containers are not recorded")
	for j, s := range sc.spans {
		assert.Equal(t, skipComposite(doc, int(s.open)), int(s.end), "container at %d", s.open)
		if j > 0 {
			assert.Less(t, sc.spans[j-1].open, s.open)
		}
	}
	_, space, err = scanJSON([]byte(" {}"))
	require.NoError(t, err)
	assert.True(t, space)
}

// TestThreeWayTapesChangeNothing merges large documents with and without the
// scan's records of container ends, which only make skipping faster.
func TestThreeWayTapesChangeNothing(t *testing.T) {
	t.Parallel()
	base, mine, theirs := benchdocs.Docs(64 << 10)
	deep := func(leaf string) []byte {
		return []byte(strings.Repeat(`{"a":[`, 300) + `{"p":"` + strings.Repeat("x", 2000) + `","v":` + leaf + `}` + strings.Repeat(`]}`, 300))
	}
	inputs := [][3][]byte{{base, mine, theirs}, {base, theirs, mine}, {deep("1"), deep("2"), deep("3")}, {deep("1"), deep("2"), deep("1")}}
	var o Options
	o.ArraysByKey("/r000001/tags", "id")
	for i, in := range inputs {
		docs, err := prepareMergeInputs(in[0], in[1], in[2])
		require.NoError(t, err)
		require.NotEmpty(t, docs[0].spans)
		withOut, withConflicts := mergeTapes(&o, docs)
		for k := range docs {
			docs[k].spans = nil
		}
		without, withoutConflicts := mergeTapes(&o, docs)
		assert.Equal(t, string(without), string(withOut), "case %d", i)
		assert.Equal(t, withoutConflicts, withConflicts, "case %d", i)
	}
}

// mergeTapes runs the merge proper on prepared inputs.
func mergeTapes(o *Options, docs [3]scanned) ([]byte, []Conflict) {
	out, conflicts, _ := mergeScanned(o, docs)
	return out, conflicts
}
