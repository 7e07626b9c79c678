package occ

import (
	"context"
	"testing"

	"github.com/occ-go/occ/internal/benchdocs"
)

func BenchmarkThreeWay(b *testing.B) {
	m := ThreeWay()
	for _, size := range benchdocs.Sizes {
		base, mine, theirs := benchdocs.Docs(size.Bytes)
		b.Run(size.Name, func(b *testing.B) {
			b.SetBytes(int64(len(base)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Merge(context.Background(), base, mine, theirs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
