package hot

import (
	"github.com/occ-go/occ"
	"k8s.io/client-go/util/retry"
)

// Strategies returns the rows of a run, in order: the hand-written and
// library loops, occ with its defaults, then occ with every extra policy
// in each of the layouts given. Adding a row is one line here.
func Strategies(extra []Policy, layouts ...Layout) []Strategy {
	rows := []Strategy{
		Blind(),
		Immediate(),
		K8s("DefaultRetry", retry.DefaultRetry),
		K8s("DefaultBackoff", retry.DefaultBackoff),
		FullJitter(),
		Modify("occ Modify", Shared, nil),
		Modify("occ Modify, coalescing off", Shared, With(occ.WithCoalescing(false))),
		Modify("occ Modify", PerWriter, nil),
		PutThreeWay("occ Put, three-way merge", PerWriter, nil),
	}
	for _, p := range extra {
		for _, l := range layouts {
			rows = append(rows, Modify("occ Modify, "+p.Name, l, p.Options))
		}
	}
	return rows
}

// With returns fixed client options for [Modify] and [PutThreeWay]; use it
// only with stateless options, since every client gets the same values.
func With(opts ...occ.Option) func() []occ.Option {
	return func() []occ.Option { return opts }
}
