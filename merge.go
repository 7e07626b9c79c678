package occ

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Merger decides which document to resubmit after a conflict: given the base
// the caller's edit was derived from, the caller's desired document (mine)
// and the server's current document (theirs), it returns the document to
// write. All three are JSON. Implementations must be safe for concurrent
// use.
type Merger interface {
	Merge(ctx context.Context, base, mine, theirs []byte) ([]byte, error)
}

// MergeFunc adapts a function to a [Merger].
type MergeFunc func(ctx context.Context, base, mine, theirs []byte) ([]byte, error)

// Merge calls f.
func (f MergeFunc) Merge(ctx context.Context, base, mine, theirs []byte) ([]byte, error) {
	return f(ctx, base, mine, theirs)
}

var _ Merger = MergeFunc(nil)

// LastWriteWins returns a [Merger] that resubmits mine unchanged against the
// new version. This is explicit data loss: every change the other writer
// made since base is overwritten.
func LastWriteWins() Merger {
	return MergeFunc(func(_ context.Context, _, mine, _ []byte) ([]byte, error) {
		return mine, nil
	})
}

// ErrMergeConflict is matched by every [*MergeConflictError].
var ErrMergeConflict = errors.New("occ: merge conflict")

// PathConflict is one place where both sides changed a document differently.
type PathConflict struct {
	Path   string          // a JSON Pointer (RFC 6901)
	Base   json.RawMessage // the value in base; nil where absent
	Mine   json.RawMessage // the value in mine; nil where absent
	Theirs json.RawMessage // the value in theirs; nil where absent
}

// MergeConflictError reports the paths a three-way merge could not
// reconcile. It matches [ErrMergeConflict] and [ErrConflict].
type MergeConflictError struct {
	Conflicts []PathConflict
}

// Error returns a one-line description naming the conflicting paths.
func (e *MergeConflictError) Error() string {
	return fmt.Sprintf("occ: merge conflict at %d path(s)", len(e.Conflicts))
}

// Is reports whether target is [ErrMergeConflict] or [ErrConflict].
func (e *MergeConflictError) Is(target error) bool {
	return target == ErrMergeConflict || target == ErrConflict
}

// ThreeWayOption configures [ThreeWay].
type ThreeWayOption interface {
	applyThreeWay(*threeWay)
}

type threeWay struct{}

// ThreeWay returns a field-level three-way [Merger]. (Placeholder: the
// merge engine lands separately.)
func ThreeWay(opts ...ThreeWayOption) Merger {
	tw := &threeWay{}
	for _, o := range opts {
		o.applyThreeWay(tw)
	}
	return MergeFunc(func(context.Context, []byte, []byte, []byte) ([]byte, error) {
		return nil, errors.New("occ: ThreeWay: not implemented")
	})
}
