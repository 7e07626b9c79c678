package occ

import (
	"context"
	"errors"
	"fmt"

	"github.com/occ-go/occ/internal/jsonmerge"
)

// ThreeWayOption configures [ThreeWay]. Options apply in order; where two
// set the same thing at the same pointer, the last wins.
type ThreeWayOption interface {
	applyThreeWay(*threeWay)
}

// threeWayOption is a [ThreeWayOption] made of a function.
type threeWayOption func(*threeWay)

func (f threeWayOption) applyThreeWay(tw *threeWay) { f(tw) }

var _ ThreeWayOption = threeWayOption(nil)

// threeWay is the [Merger] that [ThreeWay] returns. It is immutable once
// built, so safe for concurrent use.
type threeWay struct {
	opts jsonmerge.Options
	err  error // the first invalid option, returned by every Merge
}

var _ Merger = (*threeWay)(nil)

// Merge merges base, mine and theirs; see [ThreeWay].
func (tw *threeWay) Merge(ctx context.Context, base, mine, theirs []byte) ([]byte, error) {
	if tw.err != nil {
		return nil, tw.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, conflicts, err := jsonmerge.Merge(&tw.opts, base, mine, theirs)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalidMergeInput, err)
	case conflicts != nil:
		return nil, &MergeConflictError{Conflicts: pathConflicts(conflicts)}
	}
	return out, nil
}

// pathConflicts converts the engine's conflicts.
func pathConflicts(cs []jsonmerge.Conflict) []PathConflict {
	out := make([]PathConflict, len(cs))
	for i, c := range cs {
		out[i] = PathConflict(c)
	}
	return out
}

// PreferMine makes [ThreeWay] resolve every conflict by keeping mine's value
// (a deletion included) instead of reporting it, unless a
// [PreferTheirsAt] option covers the path. The default reports conflicts.
func PreferMine() ThreeWayOption { return PreferMineAt("") }

// PreferTheirs makes [ThreeWay] resolve every conflict by keeping theirs'
// value instead of reporting it, unless a [PreferMineAt] option covers the
// path. The default reports conflicts.
func PreferTheirs() ThreeWayOption { return PreferTheirsAt("") }

// PreferMineAt makes [ThreeWay] resolve conflicts at pointer, and below it,
// by keeping mine's value. pointer is an RFC 6901 JSON Pointer ("" is the
// whole document); inside an array merged with [MergeArraysByKey] the token
// "*" stands for every element. The setting at the longest pointer that
// covers a path wins. An invalid pointer makes [WithMerger] fail, and every
// Merge, with [ErrInvalidMergeOption].
func PreferMineAt(pointer string) ThreeWayOption {
	return preferAt(pointer, jsonmerge.SideMine)
}

// PreferTheirsAt is [PreferMineAt] keeping theirs' value.
func PreferTheirsAt(pointer string) ThreeWayOption {
	return preferAt(pointer, jsonmerge.SideTheirs)
}

func preferAt(pointer string, s jsonmerge.Side) ThreeWayOption {
	return threeWayOption(func(tw *threeWay) { tw.opts.Prefer(pointer, s) })
}

// MergeArraysByKey makes [ThreeWay] merge the array at pointer element by
// element, matching elements across base, mine and theirs by the value of
// their member key ("id" when key is empty), which must be a string or a
// number. Elements either side added are kept; an element one side removed
// is removed unless the other changed it, which is a conflict; elements both
// kept are merged field by field. The result lists theirs' elements in
// theirs' order, then mine's additions in mine's order. Conflict paths
// inside the array use the element's index in theirs, or in mine where
// theirs lacks it. When an element is not an object, lacks the key or
// repeats another's key, that array is merged whole, as by default.
//
// pointer is an RFC 6901 JSON Pointer; inside an array merged by key the
// token "*" stands for every element, as in "/orders/*/lines". By default
// arrays are atomic: replaced whole, and a conflict when both sides changed
// one. An invalid pointer makes [WithMerger] fail, and every Merge, with
// [ErrInvalidMergeOption].
func MergeArraysByKey(pointer, key string) ThreeWayOption {
	if key == "" {
		key = "id"
	}
	return threeWayOption(func(tw *threeWay) { tw.opts.ArraysByKey(pointer, key) })
}

// ThreeWay returns a field-level three-way [Merger]. Every edit of mine and
// every edit of theirs that touch different members survive; an edit both
// made identically is not a conflict. Objects merge member by member,
// recursively; arrays are atomic unless [MergeArraysByKey] says otherwise;
// null is an ordinary value (only absence means deleted). Equality is
// semantic: member order, insignificant whitespace, string escapes and the
// spelling of numbers (1, 1.0, 1e0) do not matter.
//
// Merge returns the full merged document as compact JSON, its members in
// theirs' order followed by mine's additions in mine's order. Where both
// sides changed one value differently, or one deleted what the other
// changed, Merge returns a [*MergeConflictError] listing every such JSON
// Pointer with its base, mine and theirs values, unless a tie-break option
// ([PreferMine], [PreferTheirs], [PreferMineAt], [PreferTheirsAt]) resolves
// it. Invalid JSON input gives an error matching [ErrInvalidMergeInput]; a
// done context its error. An invalid option (a malformed pointer, a nil
// option) makes every Merge fail with [ErrInvalidMergeOption], and
// [WithMerger] too, so that [New], or the call given the merger, reports it
// before any request is sent.
//
// The returned Merger is safe for concurrent use.
func ThreeWay(opts ...ThreeWayOption) Merger {
	tw := &threeWay{}
	for _, o := range opts {
		if o == nil {
			tw.opts.Fail(errors.New("ThreeWay: nil option"))
			continue
		}
		o.applyThreeWay(tw)
	}
	if err := tw.opts.Err(); err != nil {
		tw.err = fmt.Errorf("%w: %w", ErrInvalidMergeOption, err)
	}
	return tw
}
