// Package benchdocs generates the documents the merge benchmarks run on, for
// the root package's benchmarks and the separate benchmarks module alike.
package benchdocs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Sizes are the document sizes the benchmarks run at, by name.
var Sizes = []struct {
	Name  string
	Bytes int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// Docs returns base, mine and theirs: a JSON object of about size bytes made
// of records, and two edits of it that each change 1% of its leaf fields
// (at least one), disjoint, chosen with a fixed seed. The documents hold no
// nulls, which a JSON Merge Patch cannot express.
func Docs(size int) (base, mine, theirs []byte) {
	r := rand.New(rand.NewPCG(uint64(size), 42))
	doc := map[string]any{}
	for i := 0; approxSize(doc) < size; i++ {
		doc[fmt.Sprintf("r%06d", i)] = record(r, i)
	}
	leaves := LeafPaths(doc, nil, nil)
	n := max(1, len(leaves)/100)
	perm := r.Perm(len(leaves))
	m, t := clone(doc), clone(doc)
	for _, i := range perm[:n] {
		change(m, leaves[i], "m")
	}
	for _, i := range perm[n : 2*n] {
		change(t, leaves[i], "t")
	}
	return marshal(doc), marshal(m), marshal(t)
}

// approxSize returns the encoded size of doc, measured on every 64th record.
func approxSize(doc map[string]any) int {
	if len(doc)%64 != 0 {
		return len(doc) * 330 // a record's usual size, near enough between measurements
	}
	return len(marshal(doc))
}

func record(r *rand.Rand, i int) map[string]any {
	word := func() string { return strings.Repeat(string(rune('a'+r.IntN(26))), 3+r.IntN(6)) }
	return map[string]any{
		"id": i, "name": word() + " " + word(), "email": word() + "@example.com",
		"active": r.IntN(2) == 0, "score": float64(r.IntN(100000)) / 100,
		"address": map[string]any{"street": word() + " street", "city": word(), "zip": fmt.Sprint(10000 + r.IntN(90000)), "country": "NO"},
		"tags":    []any{word(), word()},
		"meta": map[string]any{
			"created": "2026-11-22T01:00:00Z", "rev": r.IntN(1000),
			"flags": map[string]any{"a": r.IntN(2) == 0, "b": r.IntN(2) == 0},
		},
	}
}

// LeafPaths returns the paths of doc's scalar members, in sorted order.
func LeafPaths(doc map[string]any, prefix []string, out [][]string) [][]string {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := append(slices.Clone(prefix), k)
		switch v := doc[k].(type) {
		case map[string]any:
			out = LeafPaths(v, p, out)
		case []any:
			// arrays are atomic: not a field to change
		default:
			out = append(out, p)
		}
	}
	return out
}

// change edits the scalar at path in doc, marking strings with tag.
func change(doc map[string]any, path []string, tag string) {
	for _, k := range path[:len(path)-1] {
		doc = doc[k].(map[string]any)
	}
	k := path[len(path)-1]
	switch v := doc[k].(type) {
	case string:
		doc[k] = v + "-" + tag
	case bool:
		doc[k] = !v
	case int:
		doc[k] = v + 1
	case float64:
		doc[k] = v + 1
	}
}

func clone(doc map[string]any) map[string]any {
	var out map[string]any
	if err := json.Unmarshal(marshal(doc), &out); err != nil {
		panic(err)
	}
	return out
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
