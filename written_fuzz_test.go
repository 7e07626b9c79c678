package occ

import (
	"net/http"
	"testing"
)

// FuzzWriteAnswer feeds hostile write answers to the decision whether an
// answer is the document: it must never panic, and an answer equal to what
// was sent always is the document.
func FuzzWriteAnswer(f *testing.F) {
	f.Add([]byte(`{"ok":true,"id":"d","rev":"2-a"}`), []byte(`{"_id":"d","_rev":"1-a","n":1}`))
	f.Add([]byte(`{"n":1,"v":2,"extra":{"a":[1,2]}}`), []byte(`{"n":1.0,"v":1,"extra":{"a":[1,2]}}`))
	f.Add([]byte(`{"a":{"b":{"c":"\u0041"}}}`), []byte(`{"a":{"b":{"c":"A"}}}`))
	f.Add([]byte(`[[[[`), []byte(`{}`))
	f.Add([]byte(`{"v":{"x":1}}`), []byte(`{"v":{"x":1},"w":null}`))
	s := &settings{versionField: []string{"v"}}
	f.Fuzz(func(t *testing.T, answer, sent []byte) {
		got := answerIsDocument("http://x/d", http.Header{}, answer, sent, s)
		if string(answer) == string(sent) && !got {
			t.Fatalf("an answer equal to what was sent is the document")
		}
		_, _, _ = afterWrite("http://x/d", http.Header{}, answer, sent, s)
	})
}
