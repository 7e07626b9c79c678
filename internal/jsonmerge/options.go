package jsonmerge

import (
	"github.com/occ-go/occ/internal/jsonptr"
)

// Side says which document a tie-break keeps.
type Side uint8

// The tie-breaks.
const (
	SideNone   Side = iota // report the conflict
	SideMine               // keep mine's value
	SideTheirs             // keep theirs' value
)

// optNode is one JSON Pointer token in the tree of per-path settings.
type optNode struct {
	children map[string]*optNode
	prefer   Side   // SideNone: inherit the parent's
	arrayKey string // non-empty: merge this array element by element
}

// Options are the per-path settings of a merge. The zero value merges with
// no tie-breaks and atomic arrays. Options are built by one goroutine, then
// only read, so one Options may serve concurrent merges once built.
type Options struct {
	root optNode
	err  error // the first invalid setting
}

// Prefer sets the tie-break at pointer, an RFC 6901 JSON Pointer in which
// "*" inside an array merged by key stands for every element.
func (o *Options) Prefer(pointer string, s Side) {
	if n := o.node(pointer); n != nil {
		n.prefer = s
	}
}

// ArraysByKey merges the array at pointer element by element, matching
// elements by their member key.
func (o *Options) ArraysByKey(pointer, key string) {
	if n := o.node(pointer); n != nil {
		n.arrayKey = key
	}
}

// Fail records err as the options' error, unless an earlier one is.
func (o *Options) Fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// Err returns the first invalid setting's error, such as a malformed JSON
// Pointer, or nil.
func (o *Options) Err() error { return o.err }

// node returns the settings node at pointer, creating it and its parents. It
// records an error and returns nil when pointer is malformed.
func (o *Options) node(pointer string) *optNode {
	tokens, err := jsonptr.Parse(pointer)
	if err != nil {
		o.Fail(err)
		return nil
	}
	n := &o.root
	for _, t := range tokens {
		c := n.children[t]
		if c == nil {
			c = &optNode{}
			if n.children == nil {
				n.children = map[string]*optNode{}
			}
			n.children[t] = c
		}
		n = c
	}
	return n
}

// child returns the settings node for the member or element named name under
// n, and the tie-break in force there given the parent's.
func (n *optNode) child(name string, prefer Side) (*optNode, Side) {
	if n == nil {
		return nil, prefer
	}
	c := n.children[name]
	if c != nil && c.prefer != SideNone {
		prefer = c.prefer
	}
	return c, prefer
}
