package hot

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
)

// Select keeps the strategies that run on wl and whose name (with its
// layout) matches the regexp only (all when only is empty).
func Select(all []Strategy, wl Workload, only string) ([]Strategy, error) {
	re, err := regexp.Compile(only)
	if err != nil {
		return nil, fmt.Errorf("-only: %w", err)
	}
	var out []Strategy
	for _, st := range all {
		if (st.Only == "" || st.Only == wl.Name) && re.MatchString(st.Name+" "+st.Layout.String()) {
			out = append(out, st)
		}
	}
	return out, nil
}

// Measure runs every strategy runs times, interleaved, and returns one row
// per strategy and the median serial limit. Right before every row it
// measures the serial limit again, so that each row's "× serial" is taken
// against the machine as loaded at that moment, and it collects the
// garbage the rows before left. Progress goes to stderr.
func Measure(ctx context.Context, cfg Config, sts []Strategy, runs int) ([]Row, float64, error) {
	runs = max(runs, 1)
	results := make([][]Result, len(sts))
	var serials []Result
	for i := range runs {
		for j, st := range sts {
			serial, err := Serial(ctx, cfg)
			if err != nil {
				return nil, 0, err
			}
			serials = append(serials, Result{Serial: serial})
			runtime.GC() // no row pays for the garbage of the rows before it
			res, err := Run(ctx, cfg, st)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", st.Name, err)
			}
			res.Serial = serial
			results[j] = append(results[j], res)
			fmt.Fprintf(os.Stderr, "run %d/%d: %-50s %-10s %4d landed %4d gave up %.2fx p99 %v\n",
				i+1, runs, st.Name, st.Layout, res.Landed, res.GaveUp, res.Goodput()/serial, res.P99)
		}
	}
	rows := make([]Row, len(sts))
	for j := range sts {
		rows[j] = Summarize(results[j])
	}
	return rows, median(serials, func(r Result) float64 { return r.Serial }), nil
}
