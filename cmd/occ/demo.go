package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// demoSynopsis is the first line of demo's usage.
const demoSynopsis = "occ [demo] [-writers 16] [-increments 25] [-retry-after 1]"

// demoConfig is what the demo runs with, from its flags.
type demoConfig struct {
	writers    int // concurrent writers on the hot counter
	increments int // increments each writer makes
	retryAfter int // seconds the injected 503 asks the client to wait
}

// runDemo is the demo command: it runs every scenario against in-process
// test servers and reports whether each behaved as expected.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseDemo(args, stderr)
	if !ok {
		return code
	}
	if err := demo(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "occ demo: FAILED\n%v\n", err)
		return exitFail
	}
	fmt.Fprintln(stdout, "\nok: every scenario behaved as expected")
	return exitOK
}

// parseDemo turns demo's flags into a config. When ok is false the
// command must stop with code.
func parseDemo(args []string, stderr io.Writer) (cfg demoConfig, code int, ok bool) {
	fs := newFlagSet("demo", demoSynopsis, stderr)
	fs.IntVar(&cfg.writers, "writers", 16, "concurrent writers on the hot counter")
	fs.IntVar(&cfg.increments, "increments", 25, "increments each writer makes")
	fs.IntVar(&cfg.retryAfter, "retry-after", 1, "Retry-After of the injected 503, in `seconds`")
	if code, ok := parseFlags(fs, args); !ok {
		return cfg, code, false
	}
	switch {
	case cfg.writers < 1 || cfg.writers > 1000:
		return cfg, usageError(fs, "-writers must be between 1 and 1000"), false
	case cfg.increments < 1 || cfg.increments > 10000:
		return cfg, usageError(fs, "-increments must be between 1 and 10000"), false
	case cfg.retryAfter < 0 || cfg.retryAfter > 10:
		return cfg, usageError(fs, "-retry-after must be between 0 and 10"), false
	}
	return cfg, exitOK, true
}

// scenario is one part of the demo. run narrates to out and returns an
// error when occ did not behave as expected.
type scenario struct {
	name  string // short, for tests
	title string
	run   func(ctx context.Context, cfg demoConfig, out io.Writer) error
}

// scenarios lists the demo's parts in the order they run.
func scenarios() []scenario {
	return []scenario{
		{"hot", "hot resource: many writers, one counter", hotResource},
		{"version-field", "version field in the body (Kubernetes-style)", versionField},
		{"not-retried", "conflicts that are never retried", notRetried},
		{"merge", "three-way merge of two people's edits", threeWayMerge},
		{"faults", "transient faults", transientFaults},
	}
}

// demo runs every scenario, narrating to out, and returns the failures
// joined, or nil when all behaved as expected.
func demo(ctx context.Context, cfg demoConfig, out io.Writer) error {
	out = &lockedWriter{w: out} // hooks and competing writers print from other goroutines
	var errs []error
	for i, s := range scenarios() {
		fmt.Fprintf(out, "\n%d. %s\n", i+1, s.title)
		if err := s.run(ctx, cfg, out); err != nil {
			fmt.Fprintf(out, "   FAILED: %v\n", err)
			errs = append(errs, fmt.Errorf("%s: %w", s.title, err))
		}
	}
	return errors.Join(errs...)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p to w, holding the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newClient returns an occ client for srv with short transient backoffs, so
// the demo does not dawdle, and opts.
func newClient(srv *occtest.Server, opts ...occ.Option) (*occ.Client, error) {
	base := []occ.Option{
		occ.WithHTTPClient(srv.Client()),
		occ.WithTransientRetries(4, occ.Exponential(10*time.Millisecond, 100*time.Millisecond)),
	}
	return occ.New(append(base, opts...)...)
}

// counter is the document the hot-resource and fault scenarios change.
type counter struct {
	Count int `json:"count"`
}

// increment is a change function adding one to a counter.
func increment(c *counter) error {
	c.Count++
	return nil
}

// hotResource races writers on one counter, first through occ.Modify and
// then naively, and checks that occ lost no update.
func hotResource(ctx context.Context, cfg demoConfig, out io.Writer) error {
	srv := occtest.NewServer()
	defer srv.Close()
	want := cfg.writers * cfg.increments
	fmt.Fprintf(out, "   %d writers × %d increments, all at once, on one counter (want %d)\n",
		cfg.writers, cfg.increments, want)
	fmt.Fprintln(out, "   (one client, made by occ.New with nothing but the test server's *http.Client: the defaults)")
	got, st, took, err := raceWithOCC(ctx, srv, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   occ.Modify:          count %d — no lost update; %d writes (calls at once share one), %d conflicts resolved, %v\n",
		got, srv.Writes(), st.Conflicts, took.Round(time.Millisecond))
	if got != want {
		return fmt.Errorf("occ.Modify: count %d, want %d", got, want)
	}
	naive, took, err := raceNaively(ctx, srv, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   naive GET + PUT:     count %d — %d updates silently lost (every PUT got 200), %v\n",
		naive, want-naive, took.Round(time.Millisecond))
	return nil
}

// raceWithOCC runs the writers through occ.Modify and returns the final
// count, the summed stats and the wall time.
func raceWithOCC(ctx context.Context, srv *occtest.Server, cfg demoConfig) (int, occ.Stats, time.Duration, error) {
	if err := srv.Set("/counters/occ", []byte(`{"count":0}`)); err != nil {
		return 0, occ.Stats{}, 0, err
	}
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	if err != nil {
		return 0, occ.Stats{}, 0, err
	}
	var total occ.Stats
	var mu sync.Mutex
	start := time.Now()
	err = race(cfg, func() error {
		var st occ.Stats
		_, err := occ.Modify(ctx, c, srv.URL+"/counters/occ", increment, occ.WithStats(&st))
		mu.Lock()
		total.Attempts, total.Conflicts = total.Attempts+st.Attempts, total.Conflicts+st.Conflicts
		mu.Unlock()
		return err
	})
	took := time.Since(start)
	if err != nil {
		return 0, total, took, err
	}
	n, err := storedCount(srv, "/counters/occ")
	return n, total, took, err
}

// raceNaively runs the writers with plain net/http: GET, add one, PUT
// without any precondition. It returns the final count and the wall time.
func raceNaively(ctx context.Context, srv *occtest.Server, cfg demoConfig) (int, time.Duration, error) {
	url := srv.URL + "/counters/naive"
	if err := srv.Set("/counters/naive", []byte(`{"count":0}`)); err != nil {
		return 0, 0, err
	}
	hc := srv.Client()
	start := time.Now()
	err := race(cfg, func() error {
		var c counter
		if err := naiveDo(ctx, hc, http.MethodGet, url, nil, &c); err != nil {
			return err
		}
		c.Count++
		body, _ := json.Marshal(c)
		return naiveDo(ctx, hc, http.MethodPut, url, body, nil)
	})
	took := time.Since(start)
	if err != nil {
		return 0, took, err
	}
	n, err := storedCount(srv, "/counters/naive")
	return n, took, err
}

// race runs cfg.writers goroutines, each calling op cfg.increments times,
// and returns the first error.
func race(cfg demoConfig, op func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, cfg.writers)
	for w := range cfg.writers {
		wg.Go(func() {
			for range cfg.increments {
				if errs[w] = op(); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// naiveDo sends one plain request and decodes a 2xx answer into v, if v is
// not nil.
func naiveDo(ctx context.Context, hc *http.Client, method, url string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("naive %s: %s: %s", method, resp.Status, data)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(data, v)
}

// storedCount returns the count the server holds at path.
func storedCount(srv *occtest.Server, path string) (int, error) {
	doc, _, ok := srv.Get(path)
	if !ok {
		return 0, fmt.Errorf("no document at %s", path)
	}
	var c counter
	err := json.Unmarshal(doc, &c)
	return c.Count, err
}

// deployment is the part of a Kubernetes-style object the version-field
// scenario changes.
type deployment struct {
	Spec struct {
		Replicas int `json:"replicas"`
	} `json:"spec"`
}

// versionField scales a deployment whose version lives in
// /metadata/resourceVersion while someone else labels it, and checks both
// changes land.
func versionField(ctx context.Context, _ demoConfig, out io.Writer) error {
	const ptr = "/metadata/resourceVersion"
	srv := occtest.NewServer(occtest.WithoutETags(), occtest.WithVersionField(ptr))
	defer srv.Close()
	if err := srv.Set("/deployments/web", []byte(`{"metadata":{"name":"web","labels":{}},"spec":{"replicas":1}}`)); err != nil {
		return err
	}
	srv.BeforeWrite(competeOnce(srv, "/deployments/web", out, "someone else labels the deployment team=payments", func(doc map[string]any) {
		doc["metadata"].(map[string]any)["labels"] = map[string]any{"team": "payments"}
	}))
	c, err := newClient(srv, occ.WithHooks(narrateConflicts(out)))
	if err != nil {
		return err
	}
	var st occ.Stats
	fmt.Fprintln(out, "   we scale it to 3 replicas with occ.Modify and occ.WithVersionField(\""+ptr+"\")")
	_, err = occ.Modify(ctx, c, srv.URL+"/deployments/web", func(d *deployment) error {
		d.Spec.Replicas = 3
		return nil
	}, occ.WithVersionField(ptr), occ.WithStats(&st))
	if err != nil {
		return err
	}
	doc, _, _ := srv.Get("/deployments/web")
	fmt.Fprintf(out, "   both changes landed after %d writes: %s\n", st.Attempts, doc)
	return expectJSON(doc, `{"metadata":{"labels":{"team":"payments"},"name":"web","resourceVersion":3},"spec":{"replicas":3}}`)
}

// competeOnce returns a BeforeWrite hook that, before the first write only,
// narrates what and changes the document at path as another writer would.
func competeOnce(srv *occtest.Server, path string, out io.Writer, what string, fn func(map[string]any)) func(*http.Request) {
	var once sync.Once
	return func(*http.Request) {
		once.Do(func() {
			fmt.Fprintf(out, "   (between our read and our write, %s)\n", what)
			_ = srv.Update(path, fn)
		})
	}
}

// narrateConflicts returns hooks that print each conflict and retry.
func narrateConflicts(out io.Writer) occ.Hooks {
	return occ.Hooks{
		OnConflict: func(_ context.Context, ce *occ.ConflictError) {
			fmt.Fprintf(out, "   <- %d %s conflict, code %q: %s\n", ce.StatusCode, ce.Kind, ce.Code, ce.Message)
		},
		OnRetry: func(_ context.Context, r occ.Retry) {
			if r.Reason != "transient" {
				fmt.Fprintf(out, "   -- %s: wait %v, then refresh and reapply\n", r.Reason, r.Wait.Round(time.Millisecond))
				return
			}
			what := "connection reset"
			if r.Status != 0 {
				what = http.StatusText(r.Status)
			}
			fmt.Fprintf(out, "   -- transient (%s): resend the same request\n", what)
		},
	}
}

// expectJSON reports whether got and want hold the same JSON value.
func expectJSON(got []byte, want string) error {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("document %s: %w", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return err
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		return fmt.Errorf("document is %s, want %s", gb, wb)
	}
	return nil
}

// user is the document of the duplicate-create scenario.
type user struct {
	Email string `json:"email"`
}

// order is the document of the state-transition scenario.
type order struct {
	Status string `json:"status"`
}

// notRetried shows a duplicate and a forbidden state transition each
// coming back as a typed conflict after exactly one write.
func notRetried(ctx context.Context, _ demoConfig, out io.Writer) error {
	srv := occtest.NewServer(occtest.WithUnique("/email"),
		occtest.WithTransitions("/status", map[string][]string{"new": {"paid", "cancelled"}, "paid": {"shipped"}}))
	defer srv.Close()
	c, err := newClient(srv)
	if err != nil {
		return err
	}
	if _, err := occ.Create(ctx, c, srv.URL+"/users/ann", user{"ann@example.com"}); err != nil {
		return err
	}
	fmt.Fprintln(out, "   created /users/ann with email ann@example.com; now /users/annie with the same email:")
	var st occ.Stats
	_, err = occ.Create(ctx, c, srv.URL+"/users/annie", user{"ann@example.com"}, occ.WithStats(&st))
	if err := expectConflict(out, err, occ.KindDuplicate, st); err != nil {
		return err
	}
	if err := srv.Set("/orders/7", []byte(`{"status":"shipped"}`)); err != nil {
		return err
	}
	fmt.Fprintln(out, "   cancel /orders/7, which has shipped:")
	st = occ.Stats{}
	_, err = occ.Modify(ctx, c, srv.URL+"/orders/7", func(o *order) error {
		o.Status = "cancelled"
		return nil
	}, occ.WithStats(&st))
	return expectConflict(out, err, occ.KindState, st)
}

// expectConflict prints err's conflict details and checks it is a
// *occ.ConflictError of kind want that ended the call after one write.
func expectConflict(out io.Writer, err error, want occ.Kind, st occ.Stats) error {
	var ce *occ.ConflictError
	if !errors.As(err, &ce) {
		return fmt.Errorf("got error %v, want a *occ.ConflictError", err)
	}
	fmt.Fprintf(out, "   <- %d, kind %s, code %q, message %q, fields %q\n",
		ce.StatusCode, ce.Kind, ce.Code, ce.Message, ce.Fields)
	fmt.Fprintf(out, "      retryable: %v; writes made: %d\n", ce.Retryable(), st.Attempts)
	if ce.Kind != want || ce.Retryable() || st.Attempts != 1 {
		return fmt.Errorf("got a %s conflict after %d writes, want %s after exactly 1", ce.Kind, st.Attempts, want)
	}
	return nil
}

// note is the document of the merge scenario.
type note struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// threeWayMerge has Alice and Bob edit one note from the same version:
// different fields merge, the same field conflicts, and last-write-wins
// overwrites.
func threeWayMerge(ctx context.Context, _ demoConfig, out io.Writer) error {
	srv := occtest.NewServer()
	defer srv.Close()
	c, err := newClient(srv)
	if err != nil {
		return err
	}
	for _, step := range []func(context.Context, *occ.Client, string, io.Writer) error{
		mergeDifferentFields, mergeSameField, mergeLastWriteWins,
	} {
		if err := srv.Set("/notes/1", []byte(`{"title":"Draft","body":"tbd"}`)); err != nil {
			return err
		}
		if err := step(ctx, c, srv.URL+"/notes/1", out); err != nil {
			return err
		}
	}
	return nil
}

// editPair reads the note twice, as Alice and Bob opening the same form,
// and lands Alice's edit. It returns Bob's base.
func editPair(ctx context.Context, c *occ.Client, url string, alice func(*note)) (occ.Versioned[note], error) {
	base, err := occ.Get[note](ctx, c, url)
	if err != nil {
		return base, err
	}
	mine := base.Value
	alice(&mine)
	_, err = occ.Put(ctx, c, url, base, mine)
	return base, err
}

// mergeDifferentFields: Alice retitles, Bob rewrites the body; both land.
func mergeDifferentFields(ctx context.Context, c *occ.Client, url string, out io.Writer) error {
	fmt.Fprintln(out, `   Alice and Bob open {"title":"Draft","body":"tbd"}; Alice sets the title, Bob the body`)
	base, err := editPair(ctx, c, url, func(n *note) { n.Title = "Plan" })
	if err != nil {
		return err
	}
	var st occ.Stats
	got, err := occ.Put(ctx, c, url, base, note{Title: "Draft", Body: "ship it"}, occ.WithStats(&st))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   default merger (three-way): both edits land after %d conflict: %s\n", st.Conflicts, got.Raw)
	return expectJSON(got.Raw, `{"title":"Plan","body":"ship it"}`)
}

// mergeSameField: both set the title; Bob gets a *occ.MergeConflictError.
func mergeSameField(ctx context.Context, c *occ.Client, url string, out io.Writer) error {
	fmt.Fprintln(out, "   again, but both set the title: Alice to \"Plan A\", Bob to \"Plan B\"")
	base, err := editPair(ctx, c, url, func(n *note) { n.Title = "Plan A" })
	if err != nil {
		return err
	}
	_, err = occ.Put(ctx, c, url, base, note{Title: "Plan B", Body: "tbd"})
	var me *occ.MergeConflictError
	if !errors.As(err, &me) {
		return fmt.Errorf("got error %v, want a *occ.MergeConflictError", err)
	}
	fmt.Fprintf(out, "   <- %v; nothing written, Bob decides:\n", err)
	for _, pc := range me.Conflicts {
		fmt.Fprintf(out, "      %s: base %s, mine %s, theirs %s\n", pc.Path, pc.Base, pc.Mine, pc.Theirs)
	}
	if len(me.Conflicts) != 1 || me.Conflicts[0].Path != "/title" {
		return fmt.Errorf("conflicts %+v, want one at /title", me.Conflicts)
	}
	return nil
}

// mergeLastWriteWins: Alice edits the body, Bob the title, with
// occ.LastWriteWins: Bob's write erases Alice's edit, as documented.
func mergeLastWriteWins(ctx context.Context, c *occ.Client, url string, out io.Writer) error {
	fmt.Fprintln(out, "   with occ.LastWriteWins(): Alice sets the body, Bob the title")
	base, err := editPair(ctx, c, url, func(n *note) { n.Body = "ship it" })
	if err != nil {
		return err
	}
	got, err := occ.Put(ctx, c, url, base, note{Title: "Plan", Body: "tbd"}, occ.WithMerger(occ.LastWriteWins()))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   Bob's document overwrites Alice's edit (explicit data loss): %s\n", got.Raw)
	return expectJSON(got.Raw, `{"title":"Plan","body":"tbd"}`)
}

// transientFaults injects a 503 with Retry-After into a read and a lost
// response into a write, and checks occ retries both and increments once.
func transientFaults(ctx context.Context, cfg demoConfig, out io.Writer) error {
	ra := strconv.Itoa(cfg.retryAfter)
	fmt.Fprintf(out, "   the read meets 503 with Retry-After: %s (honoured); the write lands but its answer is lost to a reset\n", ra)
	for _, honours := range []bool{true, false} {
		if err := lostAnswer(ctx, ra, honours, out); err != nil {
			return err
		}
	}
	return nil
}

// lostAnswer increments a counter whose write lands unanswered, on a server
// that honours Idempotency-Key or ignores it.
func lostAnswer(ctx context.Context, retryAfter string, honours bool, out io.Writer) error {
	srv := occtest.NewServer(occtest.WithIdempotencyKeys(honours))
	defer srv.Close()
	if err := srv.Set("/counters/1", []byte(`{"count":5}`)); err != nil {
		return err
	}
	c, err := newClient(srv, occ.WithHooks(narrateConflicts(out)))
	if err != nil {
		return err
	}
	srv.Inject(occtest.Fault{Method: http.MethodGet, Path: "/counters/1", Status: http.StatusServiceUnavailable,
		Header: http.Header{"Retry-After": {retryAfter}}, Body: "overloaded"})
	srv.Inject(occtest.Fault{Method: http.MethodPut, Path: "/counters/1", ResetAfterWrite: true})
	var st occ.Stats
	_, err = occ.Modify(ctx, c, srv.URL+"/counters/1", increment, occ.WithStats(&st))
	n, cerr := storedCount(srv, "/counters/1")
	if cerr != nil {
		return cerr
	}
	if honours {
		fmt.Fprintln(out, "   a server that honours Idempotency-Key answers the resent write with the first answer: done")
	} else {
		fmt.Fprintln(out, "   a server that ignores Idempotency-Key answers the resend 412: occ cannot tell its own landed")
		fmt.Fprintln(out, "   write from another writer's, so it neither applies the increment again nor acknowledges it")
	}
	fmt.Fprintf(out, "   count 5 -> %d, error %v (writes %d, transient retries %d): applied once, never twice\n",
		n, err, st.Attempts, st.TransientRetries)
	switch {
	case n != 6 || st.TransientRetries < 2:
		return fmt.Errorf("count %d after %d transient retries, want 6 after at least 2", n, st.TransientRetries)
	case honours && err != nil:
		return err
	case !honours && !errors.Is(err, occ.ErrAmbiguous):
		return fmt.Errorf("want ErrAmbiguous, got %v", err)
	}
	return nil
}
