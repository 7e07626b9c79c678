package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
	keyed := ThreeWay(MergeArraysByKey("", "id"), MergeArraysByKey("/a", "id"))
	f.Fuzz(func(t *testing.T, base, mine, theirs []byte) {
		for _, m := range []Merger{ThreeWay(), keyed} {
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
	if err != nil || !jsonEqual(compactOrNil(out), compactOrNil(mine)) {
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

func compactOrNil(b []byte) []byte {
	out, err := compactJSON(b)
	if err != nil {
		return nil
	}
	return out.doc
}

// FuzzScanJSON checks the merge's validator against encoding/json: the same
// verdict, and the same compact form.
func FuzzScanJSON(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b)
	})
}

func checkScan(t *testing.T, b []byte) {
	t.Helper()
	_, _, err := scanJSON(b)
	if want := json.Valid(b); (err == nil) != want {
		t.Fatalf("scanJSON(%q) error %v, json.Valid %v", b, err, want)
	}
	if err != nil {
		return
	}
	var want bytes.Buffer
	if err := json.Compact(&want, b); err != nil {
		t.Fatal(err)
	}
	got, err := compactJSON(b)
	if err != nil || !bytes.Equal(got.doc, want.Bytes()) {
		t.Fatalf("compactJSON(%q) = %q, %v; want %q", b, got.doc, err, want.Bytes())
	}
	if got.members != nil && !reflect.DeepEqual(got.members, appendMembers(nil, got.doc)) {
		t.Fatalf("compactJSON(%q) members %q, want %q", b, got.members, appendMembers(nil, got.doc))
	}
	for _, s := range got.spans {
		if e := skipComposite(got.doc, int(s.open)); int(s.end) != e {
			t.Fatalf("compactJSON(%q): container at %d ends at %d, recorded %d", b, s.open, e, s.end)
		}
	}
}
