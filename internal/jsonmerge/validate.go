package jsonmerge

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// maxMergeDepth is how deeply documents may nest, as in encoding/json.
const maxMergeDepth = 10000

// errUnexpectedEnd reports a document that ends inside a value.
var errUnexpectedEnd = errors.New("unexpected end of JSON input")

// jsonScanner validates one JSON value the way encoding/json does (RFC 8259
// syntax, strings not checked for valid UTF-8, at most maxMergeDepth levels)
// and notes whether it holds whitespace outside strings.
type jsonScanner struct {
	b     []byte
	i     int
	space bool
	stack []byte // the open containers: '{' or '['
	// top holds the members of a top-level object as scanned, valid as
	// offsets into a compact document; keyAt and keyEnd bound the key of the
	// member being scanned.
	top           []member
	keyAt, keyEnd int
	// spans holds, in order of closing, the extent of every container of
	// at least tapeMin bytes; pending holds the offset of each open one.
	spans   []span
	pending []int32
	// Backing for stack and pending, so that scanning a shallow document
	// allocates nothing for them.
	stackBuf   [32]byte
	pendingBuf [32]int32
}

// span is the extent of one container: the offsets of its first byte and
// of the byte after its last.
type span struct{ open, end int32 }

// stringSpecial marks the bytes that end a run of plain string content.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanJSON validates b as exactly one JSON value and reports whether it has
// insignificant whitespace. When it has none, it also returns what the scan
// learnt of its structure.
func scanJSON(b []byte) (scanned, bool, error) {
	s := &jsonScanner{b: b}
	s.stack, s.pending = s.stackBuf[:0], s.pendingBuf[:0]
	if err := s.run(); err != nil {
		return scanned{}, false, err
	}
	s.skipSpace()
	if s.i < len(b) {
		return scanned{}, false, s.unexpected()
	}
	if s.space {
		return scanned{}, true, nil
	}
	slices.SortFunc(s.spans, func(a, b span) int { return cmp.Compare(a.open, b.open) })
	return scanned{doc: b, members: s.top, spans: s.spans}, false, nil
}

func (s *jsonScanner) unexpected() error {
	if s.i >= len(s.b) {
		return errUnexpectedEnd
	}
	return fmt.Errorf("invalid character %q at offset %d", s.b[s.i], s.i)
}

func (s *jsonScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.space = true
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		if c := s.b[s.i]; c > ' ' {
			return c
		}
	}
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// run scans values and the punctuation between them until the outermost
// value is complete.
func (s *jsonScanner) run() error {
	for {
		closed, err := s.value()
		if err != nil {
			return err
		}
		if !closed {
			continue // opened a container: its first value comes next
		}
		more, err := s.afterValue()
		if err != nil || !more {
			return err
		}
	}
}

// value scans one scalar, or opens a container. It reports false when it
// opened a non-empty container, whose contents come next.
func (s *jsonScanner) value() (bool, error) {
	switch c := s.peek(); c {
	case '{', '[':
		return s.open(c)
	case '"':
		return true, s.str()
	case 't':
		return true, s.literal("true")
	case 'f':
		return true, s.literal("false")
	case 'n':
		return true, s.literal("null")
	}
	return true, s.number()
}

// open scans an opening brace or bracket, and a closing one at once if the
// container is empty; for a non-empty object it also scans the first key.
func (s *jsonScanner) open(c byte) (bool, error) {
	if len(s.stack) == maxMergeDepth {
		return false, fmt.Errorf("nesting deeper than %d levels at offset %d", maxMergeDepth, s.i)
	}
	s.i++
	if p := s.peek(); p == c+2 { // '{'+2 == '}', '['+2 == ']'
		s.i++
		return true, nil
	}
	s.stack = append(s.stack, c)
	if len(s.b) <= math.MaxInt32 {
		s.pending = append(s.pending, int32(s.i-1))
	}
	if c == '{' {
		return false, s.key()
	}
	return false, nil
}

// key scans an object member's key and the colon after it.
func (s *jsonScanner) key() error {
	if s.peek() != '"' {
		return s.unexpected()
	}
	at := s.i
	if err := s.str(); err != nil {
		return err
	}
	if len(s.stack) == 1 {
		s.keyAt, s.keyEnd = at, s.i
	}
	if s.peek() != ':' {
		return s.unexpected()
	}
	s.i++
	return nil
}

// afterValue scans the commas and closers after a value. It reports whether
// another value follows.
func (s *jsonScanner) afterValue() (bool, error) {
	for len(s.stack) > 0 {
		if len(s.stack) == 1 && s.stack[0] == '{' {
			s.top = append(s.top, member{key: s.b[s.keyAt:s.keyEnd], val: s.b[s.keyEnd+1 : s.i]})
		}
		top := s.stack[len(s.stack)-1]
		switch c := s.peek(); {
		case c == ',':
			s.i++
			if top == '{' {
				return true, s.key()
			}
			return true, nil
		case c == top+2:
			s.i++
			s.stack = s.stack[:len(s.stack)-1]
			s.closeTape()
		default:
			return false, s.unexpected()
		}
	}
	return false, nil
}

// closeTape records the extent of the container just closed, if large.
func (s *jsonScanner) closeTape() {
	if n := len(s.pending); n > 0 {
		if open := s.pending[n-1]; s.i-int(open) >= tapeMin {
			s.spans = append(s.spans, span{open: open, end: int32(s.i)})
		}
		s.pending = s.pending[:n-1]
	}
}

// str scans a string whose opening quote is at s.i.
func (s *jsonScanner) str() error {
	b := s.b
	for i := s.i + 1; ; {
		for i < len(b) && !stringSpecial[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			return errUnexpectedEnd
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return nil
		case c < 0x20:
			s.i = i
			return s.unexpected()
		}
		n, err := s.escape(i)
		if err != nil {
			return err
		}
		i = n
	}
}

// escape checks the escape sequence whose backslash is at b[i] and returns
// the offset after it.
func (s *jsonScanner) escape(i int) (int, error) {
	b := s.b
	if i+1 >= len(b) {
		s.i = len(b)
		return 0, errUnexpectedEnd
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
		for j := i + 2; j < i+6; j++ {
			if j >= len(b) {
				s.i = j
				return 0, errUnexpectedEnd
			}
			if !isHex(b[j]) {
				s.i = j
				return 0, s.unexpected()
			}
		}
		return i + 6, nil
	}
	s.i = i + 1
	return 0, s.unexpected()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *jsonScanner) literal(word string) error {
	for j := 0; j < len(word); j++ {
		if s.i >= len(s.b) {
			return errUnexpectedEnd
		}
		if s.b[s.i] != word[j] {
			return s.unexpected()
		}
		s.i++
	}
	return nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *jsonScanner) number() error {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if err := s.digits(); err != nil {
		return err
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if err := s.digits(); err != nil {
			return err
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		return s.digits()
	}
	return nil
}

// digits scans one or more decimal digits.
func (s *jsonScanner) digits() error {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == start {
		return s.unexpected()
	}
	return nil
}

// appendCompact appends the valid JSON src to dst without its insignificant
// whitespace.
func appendCompact(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			e := skipString(src, i)
			dst = append(dst, src[i:e]...)
			i = e
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}
