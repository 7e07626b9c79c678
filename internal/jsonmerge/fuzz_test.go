package jsonmerge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzMerge checks the engine on any three inputs: no panic; an error
// exactly when an input is invalid (or too deep for encoding/json); valid
// compact output or conflicts at valid pointers with compact values; and a
// side equal to base yields the other.
func FuzzMerge(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "merge", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c struct{ Base, Mine, Theirs json.RawMessage }
		if err := json.Unmarshal(b, &c); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(c.Base), []byte(c.Mine), []byte(c.Theirs))
	}
	f.Add([]byte(`{"a":[{"id":1}]}`), []byte(`{"a":[{"id":1,"x":2},{"id":3}]}`), []byte(`{"a":[]}`))
	var keyed Options
	keyed.ArraysByKey("/a", "id")
	keyed.Prefer("/a/*/x", SideTheirs)
	f.Fuzz(func(t *testing.T, base, mine, theirs []byte) {
		for _, o := range []*Options{nil, &keyed} {
			checkFuzzMerge(t, o, base, mine, theirs)
		}
	})
}

func checkFuzzMerge(t *testing.T, o *Options, base, mine, theirs []byte) {
	out, conflicts, err := Merge(o, base, mine, theirs)
	valid := json.Valid(base) && json.Valid(mine) && json.Valid(theirs)
	if err != nil {
		if valid && !tooDeep(base, mine, theirs) {
			t.Fatalf("valid input rejected: %v", err)
		}
		return
	}
	if !valid {
		t.Fatalf("invalid input accepted")
	}
	for _, c := range conflicts {
		for _, v := range [][]byte{c.Base, c.Mine, c.Theirs} {
			if v != nil && !isCompact(v) {
				t.Fatalf("conflict at %q holds %q, not compact JSON", c.Path, v)
			}
		}
	}
	if conflicts == nil && !isCompact(out) {
		t.Fatalf("output %q is not compact JSON", out)
	}
	out, conflicts, err = Merge(o, base, mine, base)
	if err != nil || conflicts != nil || !Equal(out, mine) {
		t.Fatalf("Merge(base, mine, base) = %q, %v, %v; want mine %q", out, conflicts, err, mine)
	}
}

// isCompact reports whether b is valid JSON without insignificant space.
func isCompact(b []byte) bool {
	var buf bytes.Buffer
	return json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b)
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
