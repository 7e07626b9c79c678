package hot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Config is one measured setting.
type Config struct {
	Writers  int           // concurrent writers; default 64
	Updates  int           // updates each writer makes; default 10
	Timeout  time.Duration // bound on one row; default 2 minutes
	Server   ServerConfig
	Workload Workload // default Counter()
}

func (c Config) withDefaults() Config {
	if c.Writers < 1 {
		c.Writers = 64
	}
	if c.Updates < 1 {
		c.Updates = 10
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Workload.unit == nil {
		c.Workload = Counter()
	}
	return c
}

// Result is what one strategy did in one run.
type Result struct {
	Strategy      Strategy
	Landed        int64
	GaveUp        int64
	Lost, Extra   int64
	Reasons       map[string]int // why updates gave up
	Counts        Counts         // what the server served
	Elapsed       time.Duration  // from the first update to the last writer done
	P50, P99, Max time.Duration  // latency of landed updates
	Serial        float64        // the serial limit, updates/s
}

// Goodput returns landed updates per second.
func (r Result) Goodput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Landed) / r.Elapsed.Seconds()
}

// newHTTPClient returns an HTTP client with its own transport keeping up to
// conns idle connections, so that no strategy pays for reconnecting.
func newHTTPClient(conns int) (*http.Client, *http.Transport) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &http.Client{Transport: tr, Timeout: time.Minute}, tr
}

// Serial measures the serial limit: updates per second of one writer doing
// uncontended GET+PUT rounds, the best a server that serialises writes can
// do for updates that each need a fresh read.
func Serial(ctx context.Context, cfg Config) (float64, error) {
	cfg = cfg.withDefaults()
	srv := NewServer(cfg.Server, cfg.Workload.Seed())
	defer srv.Close()
	hc, tr := newHTTPClient(1)
	defer tr.CloseIdleConnections()
	url, field := srv.URL(cfg.Workload.Docs[0]), cfg.Workload.Fields[0]
	const warm, rounds = 3, 30
	var start time.Time
	for i := range warm + rounds {
		if i == warm {
			start = time.Now()
		}
		if err := increment(ctx, hc, url, field, true); err != nil {
			return 0, fmt.Errorf("serial limit: %w", err)
		}
	}
	return rounds / time.Since(start).Seconds(), nil
}

// Run runs strategy st once under cfg, against a fresh server.
func Run(ctx context.Context, cfg Config, st Strategy) (Result, error) {
	cfg = cfg.withDefaults()
	srv := NewServer(cfg.Server, cfg.Workload.Seed())
	defer srv.Close()
	updaters, closeIdle, err := makeUpdaters(cfg.Writers, st)
	defer closeIdle()
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rec := newRecorder()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range cfg.Writers {
		wg.Go(func() {
			for k := range cfg.Updates {
				if ctx.Err() != nil {
					return
				}
				u := cfg.Workload.Unit(w, k)
				t0 := time.Now()
				err := updaters[w](ctx, srv.URL(u.Doc), u.Field)
				rec.add(u, time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	res := rec.result(st, time.Since(start))
	res.Counts = srv.Counts()
	res.Lost, res.Extra, err = cfg.Workload.Tally(srv.Snapshot(), rec.landed)
	return res, err
}

// makeUpdaters builds one updater per writer, each with its own HTTP client
// or all sharing one, as the layout says; closeIdle closes the transports'
// idle connections.
func makeUpdaters(writers int, st Strategy) ([]Updater, func(), error) {
	var trs []*http.Transport
	closeIdle := func() {
		for _, tr := range trs {
			tr.CloseIdleConnections()
		}
	}
	out := make([]Updater, writers)
	for w := range out {
		if st.Layout == Shared && w > 0 {
			out[w] = out[0]
			continue
		}
		conns := 2
		if st.Layout == Shared || !st.Occ {
			conns = writers // hand-written loops share one pooled client too
		}
		if !st.Occ && w > 0 {
			out[w] = out[0]
			continue
		}
		hc, tr := newHTTPClient(conns)
		trs = append(trs, tr)
		u, err := st.New(hc)
		if err != nil {
			return nil, closeIdle, err
		}
		out[w] = u
	}
	return out, closeIdle, nil
}

// recorder collects the outcome of every update, from all writers.
type recorder struct {
	mu      sync.Mutex
	landed  map[Unit]int
	lat     []time.Duration
	gaveUp  int64
	reasons map[string]int
}

func newRecorder() *recorder {
	return &recorder{landed: map[Unit]int{}, reasons: map[string]int{}}
}

func (r *recorder) add(u Unit, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.landed[u]++
		r.lat = append(r.lat, d)
		return
	}
	r.gaveUp++
	r.reasons[reason(err)]++
}

func (r *recorder) result(st Strategy, elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Strategy: st, GaveUp: r.gaveUp, Reasons: r.reasons, Elapsed: elapsed,
		Landed: int64(len(r.lat))}
	slices.Sort(r.lat)
	res.P50, res.P99, res.Max = quantile(r.lat, 0.5), quantile(r.lat, 0.99), quantile(r.lat, 1)
	return res
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ErrLost is returned by [Check] when an occ row lost or doubled an update.
var ErrLost = errors.New("hot: an occ strategy lost or doubled an update")
