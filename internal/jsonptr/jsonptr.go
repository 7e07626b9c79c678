// Package jsonptr implements RFC 6901 JSON Pointers over decoded JSON
// (map[string]any, []any and scalars), for occ and occtest alike.
package jsonptr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax is matched by the error [Parse] returns for a malformed pointer.
var ErrSyntax = errors.New("invalid JSON Pointer")

var (
	escaper   = strings.NewReplacer("~", "~0", "/", "~1")
	unescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// Parse splits a pointer into its unescaped reference tokens. The empty
// pointer, the whole document, has none. A pointer that does not start with
// "/", or has a "~" not followed by "0" or "1", is an error matching
// [ErrSyntax].
func Parse(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%w %q: must start with /", ErrSyntax, p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%w %q: bad ~ escape", ErrSyntax, p)
			}
		}
		tokens[i] = unescaper.Replace(t)
	}
	return tokens, nil
}

// Escape escapes one reference token: "~" as "~0", "/" as "~1".
func Escape(token string) string { return escaper.Replace(token) }

// Format renders tokens as a pointer.
func Format(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(Escape(t))
	}
	return b.String()
}

// Lookup returns the value at tokens in doc, descending through objects and
// arrays; it reports false when there is none.
func Lookup(doc any, tokens []string) (any, bool) {
	for _, k := range tokens {
		switch n := doc.(type) {
		case map[string]any:
			v, ok := n[k]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(n) || (len(k) > 1 && k[0] == '0') {
				return nil, false
			}
			doc = n[i]
		default:
			return nil, false
		}
	}
	return doc, true
}
