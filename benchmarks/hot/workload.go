package hot

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Workload says which documents exist and what each update changes. Every
// document is a JSON object of integer fields, all 0 at the start, and every
// update increments one field of one document by 1, so the final state
// tells exactly how many updates landed.
type Workload struct {
	// Name is "counter", "disjoint" or "spread".
	Name string
	// Docs and Fields list the documents and the fields of each.
	Docs, Fields []string
	// unit returns what update k of writer w changes.
	unit func(w, k int) Unit
}

// Unit is what one update changes: field Field of document Doc.
type Unit struct {
	Doc, Field string
}

// Counter is W writers incrementing field "n" of one document.
func Counter() Workload {
	return Workload{Name: "counter", Docs: []string{"d0"}, Fields: []string{"n"},
		unit: func(int, int) Unit { return Unit{"d0", "n"} }}
}

// Disjoint is writer i incrementing its own field "f<i>" of one document.
func Disjoint(writers int) Workload {
	fields := make([]string, writers)
	for i := range fields {
		fields[i] = "f" + strconv.Itoa(i)
	}
	return Workload{Name: "disjoint", Docs: []string{"d0"}, Fields: fields,
		unit: func(w, _ int) Unit { return Unit{"d0", fields[w]} }}
}

// Spread is updates spread round-robin over d documents, each a counter.
func Spread(d int) Workload {
	docs := make([]string, d)
	for i := range docs {
		docs[i] = "d" + strconv.Itoa(i)
	}
	return Workload{Name: fmt.Sprintf("spread(D=%d)", d), Docs: docs, Fields: []string{"n"},
		unit: func(w, k int) Unit { return Unit{docs[(w+k*7)%d], "n"} }}
}

// Unit returns what update k of writer w changes.
func (wl Workload) Unit(w, k int) Unit { return wl.unit(w, k) }

// Seed returns the documents at the start: every field 0.
func (wl Workload) Seed() map[string][]byte {
	doc := make(map[string]int64, len(wl.Fields))
	for _, f := range wl.Fields {
		doc[f] = 0
	}
	body, _ := json.Marshal(doc) // a map of numbers always encodes
	out := make(map[string][]byte, len(wl.Docs))
	for _, id := range wl.Docs {
		out[id] = body
	}
	return out
}

// Tally compares the final documents with the updates reported landed:
// lost counts landed updates missing from the final state, extra counts
// increments no landed update accounts for (a doubled write).
func (wl Workload) Tally(final map[string][]byte, landed map[Unit]int) (lost, extra int64, err error) {
	for _, id := range wl.Docs {
		var doc map[string]int64
		if err := json.Unmarshal(final[id], &doc); err != nil {
			return 0, 0, fmt.Errorf("final document %s: %w", id, err)
		}
		for _, f := range wl.Fields {
			d := int64(landed[Unit{id, f}]) - doc[f]
			if d > 0 {
				lost += d
			} else {
				extra -= d
			}
		}
	}
	return lost, extra, nil
}
