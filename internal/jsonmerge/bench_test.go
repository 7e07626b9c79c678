package jsonmerge

import (
	"testing"

	"github.com/occ-go/occ/internal/benchdocs"
)

// BenchmarkMerge merges the benchmark documents with the engine alone: the
// cost occ.ThreeWay adds on top is a context check.
func BenchmarkMerge(b *testing.B) {
	for _, size := range benchdocs.Sizes {
		base, mine, theirs := benchdocs.Docs(size.Bytes)
		b.Run(size.Name, func(b *testing.B) {
			b.SetBytes(int64(len(base)))
			b.ReportAllocs()
			for b.Loop() {
				if _, conflicts, err := Merge(nil, base, mine, theirs); err != nil || conflicts != nil {
					b.Fatal(err, conflicts)
				}
			}
		})
	}
}

// BenchmarkJSONPatch renders a large change as a guarded JSON Patch.
func BenchmarkJSONPatch(b *testing.B) {
	base, mine, theirs := benchdocs.Docs(64 << 10)
	merged, _, err := Merge(nil, base, mine, theirs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JSONPatch(theirs, merged); err != nil {
			b.Fatal(err)
		}
	}
}
