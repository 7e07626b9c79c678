package hot

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/occ-go/occ"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

// Updater makes one update: it increments field of the document at url, and
// returns nil once that landed.
type Updater func(ctx context.Context, url, field string) error

// Layout is how writers hold their clients.
type Layout int

const (
	// PerWriter gives every writer a client of its own (replicas).
	PerWriter Layout = iota
	// Shared gives all writers one client (goroutines of one service).
	Shared
)

func (l Layout) String() string {
	if l == Shared {
		return "shared"
	}
	return "per writer"
}

// Strategy is one way of updating, one row of the table.
type Strategy struct {
	Name   string
	Layout Layout
	// Occ says the row is occ's: it must lose nothing and, with the
	// defaults, give up on nothing.
	Occ bool
	// Only names the workload the strategy runs on; empty for all.
	Only string
	// New returns the updater of one writer, or of all writers when the
	// layout is Shared; hc is the HTTP client to send through.
	New func(hc *http.Client) (Updater, error)
}

// Blind reads, increments and writes without If-Match: the damage.
func Blind() Strategy {
	return Strategy{Name: "blind overwrite", New: func(hc *http.Client) (Updater, error) {
		return func(ctx context.Context, url, field string) error {
			return increment(ctx, hc, url, field, false)
		}, nil
	}}
}

// Immediate retries a conflict at once, forever (within the context).
func Immediate() Strategy {
	return Strategy{Name: "immediate-retry loop", New: func(hc *http.Client) (Updater, error) {
		return func(ctx context.Context, url, field string) error {
			for {
				err := increment(ctx, hc, url, field, true)
				if !errors.Is(err, errConflict) || ctx.Err() != nil {
					return err
				}
			}
		}, nil
	}}
}

// K8s runs retry.RetryOnConflict with the given client-go backoff.
func K8s(name string, b wait.Backoff) Strategy {
	gr := schema.GroupResource{Resource: "docs"}
	return Strategy{Name: "client-go RetryOnConflict, " + name, New: func(hc *http.Client) (Updater, error) {
		return func(ctx context.Context, url, field string) error {
			return retry.RetryOnConflict(b, func() error {
				err := increment(ctx, hc, url, field, true)
				if errors.Is(err, errConflict) {
					return apierrors.NewConflict(gr, url, err)
				}
				return err
			})
		}, nil
	}}
}

// FullJitter runs cenkalti/backoff/v5's Retry with full jitter over its
// exponential backoff from 2 ms to 128 ms, and its other defaults.
func FullJitter() Strategy {
	return Strategy{Name: "full jitter (cenkalti/backoff v5, 2..128 ms)", New: func(hc *http.Client) (Updater, error) {
		return func(ctx context.Context, url, field string) error {
			_, err := backoff.Retry(ctx, func() (struct{}, error) {
				err := increment(ctx, hc, url, field, true)
				if err != nil && !errors.Is(err, errConflict) {
					return struct{}{}, backoff.Permanent(err)
				}
				return struct{}{}, err
			}, backoff.WithBackOff(newFullJitter()))
			return err
		}, nil
	}}
}

// fullJitter is a backoff.BackOff waiting a uniform random time below
// cenkalti's exponential interval, without its own randomisation.
type fullJitter struct{ exp *backoff.ExponentialBackOff }

func newFullJitter() *fullJitter {
	e := backoff.NewExponentialBackOff()
	e.InitialInterval, e.MaxInterval = 2*time.Millisecond, 128*time.Millisecond
	e.RandomizationFactor, e.Multiplier = 0, 2
	return &fullJitter{exp: e}
}

func (f *fullJitter) Reset() { f.exp.Reset() }

func (f *fullJitter) NextBackOff() time.Duration {
	d := f.exp.NextBackOff()
	if d <= 0 {
		return d
	}
	return rand.N(d)
}

// Modify is occ.Modify with the client options opts returns (called once
// per client, so stateful backoffs are per client); nil opts is occ's
// defaults.
func Modify(name string, l Layout, opts func() []occ.Option) Strategy {
	return Strategy{Name: name, Layout: l, Occ: true, New: func(hc *http.Client) (Updater, error) {
		c, err := newOcc(hc, opts)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, url, field string) error {
			_, err := occ.Modify(ctx, c, url, func(doc *map[string]int64) error {
				(*doc)[field]++
				return nil
			})
			return err
		}, nil
	}}
}

// PutThreeWay reads the document, increments the writer's field in a copy
// and writes it with occ.Put and the default three-way merge.
func PutThreeWay(name string, l Layout, opts func() []occ.Option) Strategy {
	return Strategy{Name: name, Layout: l, Occ: true, Only: "disjoint", New: func(hc *http.Client) (Updater, error) {
		c, err := newOcc(hc, opts)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, url, field string) error {
			base, err := occ.Get[map[string]int64](ctx, c, url)
			if err != nil {
				return err
			}
			desired := maps.Clone(base.Value)
			desired[field]++
			_, err = occ.Put(ctx, c, url, base, desired)
			return err
		}, nil
	}}
}

// newOcc makes an occ client sending through hc.
func newOcc(hc *http.Client, opts func() []occ.Option) (*occ.Client, error) {
	all := []occ.Option{occ.WithHTTPClient(hc)}
	if opts != nil {
		all = append(all, opts()...)
	}
	return occ.New(all...)
}

// reason names why an update gave up, for the table's notes.
func reason(err error) string {
	var merge *occ.MergeConflictError
	switch {
	case errors.Is(err, occ.ErrBudgetExhausted):
		return "budget"
	case errors.Is(err, occ.ErrAttemptsExhausted):
		return "attempts"
	case errors.As(err, &merge):
		return "merge conflict"
	case apierrors.IsConflict(err), errors.Is(err, errConflict):
		return "steps"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	return "other"
}
