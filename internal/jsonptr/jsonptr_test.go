package jsonptr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAndFormatRoundTrip(t *testing.T) {
	for _, tokens := range [][]string{nil, {""}, {"a/b", "c~d"}, {"~01", "é"}} {
		got, err := Parse(Format(tokens))
		require.NoError(t, err)
		assert.Equal(t, len(tokens), len(got))
		for i := range tokens {
			assert.Equal(t, tokens[i], got[i])
		}
	}
	got, err := Parse("/a~1b/~0~1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a/b", "~/"}, got)
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, p := range []string{"a", "/a~", "/a~2", "#/a"} {
		_, err := Parse(p)
		assert.ErrorIs(t, err, ErrSyntax, p)
	}
}

func TestLookup(t *testing.T) {
	doc := map[string]any{"a": []any{map[string]any{"b": 1.0}}, "": "empty"}
	cases := []struct {
		tokens []string
		want   any
		ok     bool
	}{
		{nil, doc, true},
		{[]string{"a", "0", "b"}, 1.0, true},
		{[]string{""}, "empty", true},
		{[]string{"a", "1"}, nil, false},
		{[]string{"a", "-1"}, nil, false},
		{[]string{"a", "00"}, nil, false},
		{[]string{"a", "0", "b", "c"}, nil, false},
		{[]string{"x"}, nil, false},
	}
	for _, tc := range cases {
		got, ok := Lookup(doc, tc.tokens)
		assert.Equal(t, tc.ok, ok, "%v", tc.tokens)
		if tc.ok {
			assert.Equal(t, tc.want, got, "%v", tc.tokens)
		}
	}
}
