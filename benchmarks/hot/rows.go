package hot

import (
	"k8s.io/client-go/util/retry"
)

// Strategies returns the rows of a run, in order: the hand-written and
// library loops, occ with its defaults, then occ with every extra policy,
// per writer. Adding a row is one line here.
func Strategies(extra []Policy) []Strategy {
	rows := []Strategy{
		Blind(),
		Immediate(),
		K8s("DefaultRetry", retry.DefaultRetry),
		K8s("DefaultBackoff", retry.DefaultBackoff),
		FullJitter(),
		Modify("occ Modify", Shared, nil),
		Modify("occ Modify", PerWriter, nil),
		PutThreeWay("occ Put, three-way merge", PerWriter, nil),
	}
	for _, p := range extra {
		rows = append(rows, Modify("occ Modify, "+p.Name, PerWriter, p.Options))
	}
	return rows
}
