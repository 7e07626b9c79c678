package occ

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// Merger decides which document to resubmit after a conflict: given the base
// the caller's edit was derived from, the caller's desired document (mine)
// and the server's current document (theirs), it returns the document to
// write. All three are JSON. Implementations must be safe for concurrent
// use.
type Merger interface {
	Merge(ctx context.Context, base, mine, theirs []byte) ([]byte, error)
}

// MergeFunc adapts a function to a [Merger]: the caller's own merge
// callback. It is as safe for concurrent use as the function it wraps.
type MergeFunc func(ctx context.Context, base, mine, theirs []byte) ([]byte, error)

// Merge calls f.
func (f MergeFunc) Merge(ctx context.Context, base, mine, theirs []byte) ([]byte, error) {
	return f(ctx, base, mine, theirs)
}

var _ Merger = MergeFunc(nil)

// LastWriteWins returns a [Merger] that resubmits mine unchanged against the
// new version. This is explicit data loss: every change the other writer
// made since base is overwritten, silently. Use it only where that is the
// intended policy; [ThreeWay] keeps both writers' edits. It never fails and
// is safe for concurrent use.
func LastWriteWins() Merger {
	return MergeFunc(func(_ context.Context, _, mine, _ []byte) ([]byte, error) {
		return mine, nil
	})
}

// ErrMergeConflict is matched by every [*MergeConflictError].
var ErrMergeConflict = errors.New("occ: merge conflict")

// ErrInvalidMergeInput is matched by the error a [ThreeWay] merger returns
// when base, mine or theirs is not exactly one valid JSON value, or nests
// deeper than 10000 levels.
var ErrInvalidMergeInput = errors.New("occ: invalid merge input")

// ErrInvalidMergeOption is matched by the error a [ThreeWay] merger returns
// from every Merge call when one of its options was invalid, such as a
// malformed JSON Pointer or a nil option.
var ErrInvalidMergeOption = errors.New("occ: invalid merge option")

// PathConflict is one place where both sides changed a document differently.
// The values are compact JSON, or nil where the member is absent from that
// document (deleted, or never there).
type PathConflict struct {
	Path   string          // a JSON Pointer (RFC 6901)
	Base   json.RawMessage // the value in base; nil where absent
	Mine   json.RawMessage // the value in mine; nil where absent
	Theirs json.RawMessage // the value in theirs; nil where absent
}

// MergeConflictError reports the paths a three-way merge could not
// reconcile, in document order. It matches [ErrMergeConflict] and
// [ErrConflict] with [errors.Is].
//
// The Error text is not contractual; read Conflicts.
type MergeConflictError struct {
	Conflicts []PathConflict
}

// maxNamedPaths bounds how many paths Error names.
const maxNamedPaths = 5

// Error returns a one-line description naming the conflicting paths, such as
// "occ: merge conflict at /name, /address/city": at most 5 paths, each
// sanitised and cut to 256 bytes.
func (e *MergeConflictError) Error() string {
	if len(e.Conflicts) == 0 {
		return ErrMergeConflict.Error()
	}
	var b strings.Builder
	b.WriteString("occ: merge conflict at ")
	for i, c := range e.Conflicts {
		if i == maxNamedPaths {
			b.WriteString(" and more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if c.Path == "" {
			b.WriteString(`"" (the whole document)`)
			continue
		}
		b.WriteString(shownPath(c.Path))
	}
	return b.String()
}

// shownPath is a conflict's path as Error and LogValue show it: member
// names come from the server, so the path is sanitised and bounded like a
// [ConflictError]'s texts (see cleanText); one that cleans to nothing is
// shown as "(unprintable)".
func shownPath(p string) string {
	if c := cleanText(p, maxShort); c != "" || p == "" {
		return c
	}
	return "(unprintable)"
}

// Is reports whether target is [ErrMergeConflict] or [ErrConflict].
func (e *MergeConflictError) Is(target error) bool {
	return target == ErrMergeConflict || target == ErrConflict
}
