// Command hotbench measures conflict-aware retry strategies on a hot
// resource and prints a markdown table: W writers update documents on a
// loopback server with ETag + If-Match and a per-request latency, each
// strategy against a fresh server, all in one run.
//
//	cd benchmarks && go run ./cmd/hotbench -writers 64 -latency 5ms
//
// It exits 1 when an occ row lost or doubled an update.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/occ-go/occ/benchmarks/hot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hotbench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg      hot.Config
		workload = flag.String("workload", "counter", "counter, disjoint or spread")
		docs     = flag.Int("docs", 8, "documents of the spread workload")
		runs     = flag.Int("runs", 1, "runs of every row; the table shows medians")
		only     = flag.String("only", "", "run only the rows whose name matches this regexp")
		policies = flag.String("policies", "", "extra occ policies, comma-separated (see hot.ParsePolicy)")
		shared   = flag.Bool("shared", false, "run the extra policies with a shared client too")
	)
	flag.IntVar(&cfg.Writers, "writers", 64, "concurrent writers")
	flag.IntVar(&cfg.Updates, "updates", 10, "updates per writer")
	flag.DurationVar(&cfg.Server.Latency, "latency", 5*time.Millisecond, "server latency per request")
	flag.BoolVar(&cfg.Server.Conflict409, "409", false, "answer conflicts with 409 problem+json instead of 412")
	flag.BoolVar(&cfg.Server.CurrentInConflict, "current", false, "conflict answers carry the current document")
	flag.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "bound on one row")
	flag.Parse()

	wl, err := workloadNamed(*workload, cfg.Writers, *docs)
	if err != nil {
		return err
	}
	cfg.Workload = wl
	var extra []hot.Policy
	for _, spec := range strings.FieldsFunc(*policies, func(r rune) bool { return r == ',' }) {
		p, err := hot.ParsePolicy(spec)
		if err != nil {
			return err
		}
		extra = append(extra, p)
	}
	layouts := []hot.Layout{hot.PerWriter}
	if *shared {
		layouts = append(layouts, hot.Shared)
	}
	rows, err := hot.Select(hot.Strategies(extra, layouts...), wl, *only)
	if err != nil {
		return err
	}
	fmt.Printf("hotbench: %s, W=%d × %d updates, latency %v, conflict %s, %d run(s)\n\n",
		wl.Name, cfg.Writers, cfg.Updates, cfg.Server.Latency, conflictName(cfg.Server), *runs)
	table, serial, err := hot.Measure(context.Background(), cfg, rows, *runs)
	if err != nil {
		return err
	}
	fmt.Printf("serial limit (one writer, uncontended GET+PUT): %.0f updates/s (median)\n\n", serial)
	if err := hot.WriteTable(os.Stdout, table); err != nil {
		return err
	}
	return hot.Check(table)
}

func workloadNamed(name string, writers, docs int) (hot.Workload, error) {
	switch name {
	case "counter":
		return hot.Counter(), nil
	case "disjoint":
		return hot.Disjoint(writers), nil
	case "spread":
		return hot.Spread(docs), nil
	}
	return hot.Workload{}, fmt.Errorf("unknown workload %q", name)
}

func conflictName(s hot.ServerConfig) string {
	name := "412"
	if s.Conflict409 {
		name = "409 problem+json"
	}
	if s.CurrentInConflict {
		name += " with the current document"
	}
	return name
}
