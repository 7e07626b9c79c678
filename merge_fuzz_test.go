package occ

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/occ-go/occ/internal/jsonmerge"
)

// FuzzThreeWay checks that the merge never panics, returns valid compact
// JSON or a typed error, and that a side equal to base yields the other.
func FuzzThreeWay(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "merge", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c mergeCase
		if err := json.Unmarshal(b, &c); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(c.Base), []byte(c.Mine), []byte(c.Theirs))
	}
	f.Add([]byte(`{"a":[1,{"b":"\"}"}]}`), []byte(`{"a":[1,{"b":"\\"}],"c":-0.0e+1}`), []byte(`{"\u0061":[]}`))
	mergers := []Merger{
		ThreeWay(),
		ThreeWay(MergeArraysByKey("", "id"), MergeArraysByKey("/a", "id"), MergeArraysByKey("/*/b", "id")),
		ThreeWay(PreferTheirs(), PreferMineAt("/a"), MergeArraysByKey("/a", "k")),
	}
	f.Fuzz(func(t *testing.T, base, mine, theirs []byte) {
		for _, m := range mergers {
			checkFuzzMerge(t, m, base, mine, theirs)
		}
	})
}

func checkFuzzMerge(t *testing.T, m Merger, base, mine, theirs []byte) {
	ctx := context.Background()
	out, err := m.Merge(ctx, base, mine, theirs)
	valid := json.Valid(base) && json.Valid(mine) && json.Valid(theirs)
	switch {
	case err == nil:
		if !valid || !json.Valid(out) {
			t.Fatalf("merge of invalid input or invalid output %q", out)
		}
	case errors.Is(err, ErrMergeConflict):
		if !valid {
			t.Fatalf("conflict on invalid input: %v", err)
		}
	case errors.Is(err, ErrInvalidMergeInput):
		if valid && !tooDeep(base, mine, theirs) {
			t.Fatalf("valid input rejected: %v", err)
		}
		return
	default:
		t.Fatalf("untyped error: %v", err)
	}
	out, err = m.Merge(ctx, base, mine, base)
	if err != nil || !jsonmerge.Equal(out, mine) {
		t.Fatalf("merge(base, mine, base) = %q, %v; want mine %q", out, err, mine)
	}
}

// tooDeep reports whether any document nests past encoding/json's limit.
func tooDeep(docs ...[]byte) bool {
	for _, d := range docs {
		var v any
		if err := json.Unmarshal(d, &v); err != nil {
			return true
		}
	}
	return false
}
