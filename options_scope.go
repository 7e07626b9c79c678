package occ

import (
	"fmt"
	"net/http"
	"strings"
)

// opSet is a set of the operations a call option can apply to.
type opSet uint8

const (
	opGet         opSet = 1 << iota // Get, GetJSON
	opModify                        // Modify, ModifyJSON
	opModifyBytes                   // ModifyBytes
	opPut                           // Put, PutJSON
	opCreate                        // Create
	opProbe                         // Probe
)

// opOf names each operation as [operation] and [Probe] name it.
var opOf = map[string]opSet{
	"Get": opGet, "Modify": opModify, "ModifyJSON": opModify, "ModifyBytes": opModifyBytes,
	"Put": opPut, "Create": opCreate, "Probe": opProbe,
}

// names lists the operations in ops, for an error message.
func (ops opSet) names() string {
	var out []string
	for _, n := range []string{"Get", "Modify", "ModifyBytes", "Put", "Create", "Probe"} {
		if ops&opOf[n] != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// scoped is implemented by the call options that apply to some operations
// only; every other option applies to all of them. An option declares its
// scope where it is made, with [onlyFor] or [sharedOnlyFor], and
// [Client.settingsFor] checks it, before any request.
type scoped interface {
	scope() (name string, ops opSet)
}

// scopedCall is a [CallOption] that applies to some operations only.
type scopedCall struct {
	name  string
	ops   opSet
	apply func(*settings) error
}

func (o scopedCall) applyCall(s *settings) error     { return o.apply(s) }
func (o scopedCall) scope() (name string, ops opSet) { return o.name, o.ops }

// scopedShared is a [SharedOption] whose call form applies to some
// operations only; as a client's default it applies wherever it can.
type scopedShared struct{ scopedCall }

func (o scopedShared) applyClient(c *Client) error { return o.apply(&c.defaults) }

var (
	_ CallOption   = scopedCall{}
	_ SharedOption = scopedShared{}
)

// onlyFor returns the call option name that apply implements, valid in the
// operations ops only.
func onlyFor(ops opSet, name string, apply func(*settings) error) CallOption {
	return scopedCall{name: name, ops: ops, apply: apply}
}

// sharedOnlyFor is [onlyFor] for an option a client also takes as its
// default.
func sharedOnlyFor(ops opSet, name string, apply func(*settings) error) SharedOption {
	return scopedShared{scopedCall{name: name, ops: ops, apply: apply}}
}

// settingsFor returns the settings of a call of the operation op (as
// [operation] names it) with opts, refusing with [ErrInvalidArgument] an
// option that cannot apply to op.
func (c *Client) settingsFor(op string, opts []CallOption) (*settings, error) {
	for _, o := range opts {
		sc, ok := o.(scoped)
		if !ok {
			continue
		}
		if name, ops := sc.scope(); ops&opOf[op] == 0 {
			return nil, argError(op, fmt.Sprintf("%s does not apply to %s, only to %s", name, op, ops.names()))
		}
	}
	return c.callSettings(opts)
}

// preconditionHeaders are the headers that make a request conditional:
// occ sets them itself, from the version it read, and a caller's own would
// change what a write is conditioned on, or make a read answer 304.
var preconditionHeaders = []string{"If-Match", "If-None-Match", "If-Unmodified-Since", "If-Modified-Since", "If-Range"}

// checkPrecondition refuses a precondition header given to [WithHeader].
func checkPrecondition(key string) error {
	for _, h := range preconditionHeaders {
		if http.CanonicalHeaderKey(key) == h {
			return argError("WithHeader", fmt.Sprintf("%s is a precondition occ sets from the version it read; "+
				"to write unconditionally use WithUnconditional, to create use Create", h))
		}
	}
	return nil
}
