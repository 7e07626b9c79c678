package occ

import (
	"encoding/json"
	"net/http"
	"testing"
)

// BenchmarkWriteAnswer measures deciding whether a write's answer is the
// document (answerIsDocument: decode both as objects, compare member names) against what was done
// before, taking any valid JSON object (json.Valid), for an answer that
// holds what was sent plus a member the server added and a new version.
func BenchmarkWriteAnswer(b *testing.B) {
	doc := map[string]any{"version": 1, "name": "bench", "extra": map[string]any{"a": []int{1, 2, 3}, "b": "keep me"}}
	for i := range 40 {
		doc["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	sent, _ := json.Marshal(doc)
	doc["version"], doc["updatedAt"] = 2, "2026-11-28T00:00:00Z"
	answer, _ := json.Marshal(doc)
	s := &settings{versionField: []string{"version"}}
	h := http.Header{}
	b.Run("impl=valid-object", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(answer) || !isObject(answer) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("impl=answerIsDocument", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !answerIsDocument("http://x/d", h, answer, sent, s) {
				b.Fatal("not the document")
			}
		}
	})
}
