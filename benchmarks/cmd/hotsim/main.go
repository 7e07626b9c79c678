// Command hotsim runs hotbench's counter workload in a discrete-event model
// (package hot, Simulate): no CPU, no scheduler, the same server rule. It
// takes seconds where hotbench takes minutes, and is deterministic for a
// seed, so it serves to explore policies before measuring them for real:
//
//	go run ./cmd/hotsim -writers 64 -latency 5 paced:8 full:2:128 tilt:5:4:12
//
// Policies: immediate, full:B:C (ms), paced:M, tilt:M:G:K (see hot.Tilt).
// Each row is the mean over -seeds runs.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/occ-go/occ/benchmarks/hot"
)

func main() {
	writers := flag.Int("writers", 64, "concurrent writers")
	updates := flag.Int("updates", 10, "updates per writer")
	latency := flag.Float64("latency", 5, "server latency per request, ms")
	seeds := flag.Int("seeds", 6, "runs per policy, with seeds 0..n-1")
	flag.Parse()
	fmt.Printf("hotsim: counter, W=%d × %d updates, latency %g ms, mean of %d seeds\n\n", *writers, *updates, *latency, *seeds)
	fmt.Println("| policy | writes/landed | × serial | model's × serial | p50 | p99 | max |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	for _, spec := range flag.Args() {
		p, err := hot.ParseSimPolicy(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var sum hot.SimResult
		for seed := range *seeds {
			r := hot.Simulate(hot.SimConfig{Writers: *writers, Updates: *updates, Latency: *latency,
				Net: 0.05, Overhead: 0.15, Seed: uint64(seed)}, p)
			sum.XSerial += r.XSerial
			sum.WritesPerLanded += r.WritesPerLanded
			sum.P50, sum.P99, sum.Max = sum.P50+r.P50, sum.P99+r.P99, sum.Max+r.Max
		}
		n := float64(*seeds)
		w := sum.WritesPerLanded / n
		fmt.Printf("| %s | %.1f | %.2fx | %.2fx | %.0f ms | %.0f ms | %.0f ms |\n", spec, w, sum.XSerial/n,
			hot.ModelXSerial(w), sum.P50/n, sum.P99/n, sum.Max/n)
	}
}
