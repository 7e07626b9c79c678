package hot

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Row is one strategy summarised over repeated runs: medians, except Lost,
// Extra and GaveUp, which are the worst run's, and Reasons, summed.
type Row struct {
	Name, Layout                 string
	Occ                          bool
	Runs                         int
	Landed, GaveUp, Lost, Extra  int64
	WritesPerLanded, ReqsPerLand float64
	Goodput, XSerial             float64
	P50, P99, Max                time.Duration
	Reasons                      map[string]int
}

// Summarize turns runs of the same strategy into a row.
func Summarize(runs []Result) Row {
	r := Row{Name: runs[0].Strategy.Name, Layout: runs[0].Strategy.Layout.String(),
		Occ: runs[0].Strategy.Occ, Runs: len(runs), Reasons: map[string]int{}}
	if !runs[0].Strategy.Occ {
		r.Layout = "-"
	}
	for _, x := range runs {
		r.GaveUp, r.Lost, r.Extra = max(r.GaveUp, x.GaveUp), max(r.Lost, x.Lost), max(r.Extra, x.Extra)
		for k, v := range x.Reasons {
			r.Reasons[k] += v
		}
	}
	r.Landed = int64(median(runs, func(x Result) float64 { return float64(x.Landed) }))
	r.WritesPerLanded = median(runs, func(x Result) float64 { return per(x.Counts.Puts, x.Landed) })
	r.ReqsPerLand = median(runs, func(x Result) float64 { return per(x.Counts.Requests, x.Landed) })
	r.Goodput = median(runs, Result.Goodput)
	r.XSerial = median(runs, func(x Result) float64 { return x.Goodput() / x.Serial })
	r.P50 = time.Duration(median(runs, func(x Result) float64 { return float64(x.P50) }))
	r.P99 = time.Duration(median(runs, func(x Result) float64 { return float64(x.P99) }))
	r.Max = time.Duration(median(runs, func(x Result) float64 { return float64(x.Max) }))
	return r
}

func per(n, landed int64) float64 {
	if landed == 0 {
		return 0
	}
	return float64(n) / float64(landed)
}

// median returns the median of f over runs (the lower middle for an even
// count... averaged with the upper, as usual).
func median(runs []Result, f func(Result) float64) float64 {
	v := make([]float64, len(runs))
	for i, x := range runs {
		v[i] = f(x)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// WriteTable writes rows as a markdown table.
func WriteTable(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| strategy | client | landed | gave up | lost | writes/landed | requests/landed | goodput/s | × serial | p50 | p99 | max |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %.0f | %.2fx | %s | %s | %s |\n",
			r.Name, r.Layout, r.Landed, gaveUp(r), lost(r), perLanded(r.WritesPerLanded), perLanded(r.ReqsPerLand),
			r.Goodput, r.XSerial, ms(r.P50), ms(r.P99), ms(r.Max))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// perLanded renders a count per landed update: one decimal, or three where
// coalescing makes it a small fraction.
func perLanded(x float64) string {
	if x > 0 && x < 0.1 {
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// gaveUp renders the worst run's give-ups and, over all runs, why.
func gaveUp(r Row) string {
	if r.GaveUp == 0 {
		return "0"
	}
	var why []string
	for _, k := range slices.Sorted(maps.Keys(r.Reasons)) {
		why = append(why, fmt.Sprintf("%s %d", k, r.Reasons[k]))
	}
	return fmt.Sprintf("**%d** (%s)", r.GaveUp, strings.Join(why, ", "))
}

func lost(r Row) string {
	s := fmt.Sprint(r.Lost)
	if r.Lost > 0 {
		s = "**" + s + "**"
	}
	if r.Extra > 0 {
		s += fmt.Sprintf(" (+%d doubled)", r.Extra)
	}
	return s
}

// ms renders a duration in milliseconds, or seconds past 10 s.
func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// Check returns ErrLost when an occ row lost or doubled an update.
func Check(rows []Row) error {
	for _, r := range rows {
		if r.Occ && (r.Lost > 0 || r.Extra > 0) {
			return fmt.Errorf("%w: %s lost %d, doubled %d", ErrLost, r.Name, r.Lost, r.Extra)
		}
	}
	return nil
}
