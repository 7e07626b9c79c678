// Command ratebench measures clients against a rate-limited API and prints
// a markdown table: W writers each make N read-modify-write calls (by
// default enough for about 3 seconds at the limit, at least 8) on their
// own document (no version conflicts), sharing one client, against a
// loopback occtest server that serves R requests per one-second window
// (fixed windows on the clock) and answers 429 with Retry-After past it,
// announcing its limit in each style (none, IETF RateLimit fields,
// X-RateLimit-*). Clients, in the same run: occ's default client
// (Modify), go-retryablehttp's default client and policy, and a plain
// loop that honours Retry-After (at most 10 sends a request).
//
//	cd benchmarks && go run ./cmd/ratebench
//
// It exits 1 when an occ row lost or doubled an update.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ratebench:", err)
		os.Exit(1)
	}
}

// load is one row's shape: writers against a limit per second.
type load struct{ writers, perSecond int }

func run() error {
	var (
		loads   = flag.String("loads", "8x100,32x50,64x200", "writers x requests per second, comma-separated")
		calls   = flag.Int("calls", 0, "calls per writer; 0: enough for about 3 seconds at the limit, at least 8")
		clients = flag.String("clients", "occ,retryablehttp,retry-after", "clients to run")
		styles  = flag.String("styles", "none,ietf,x-ratelimit", "announcement styles to run")
		timeout = flag.Duration("timeout", 30*time.Second, "deadline of one call")
	)
	flag.Parse()
	ls, err := parseLoads(*loads)
	if err != nil {
		return err
	}
	fmt.Println("| announcement | writers | limit/s | client | requests | answered 429 | calls failed | served of the limit | seconds |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	bad := false
	for _, style := range strings.Split(*styles, ",") {
		st, ok := styleNamed[style]
		if !ok {
			return fmt.Errorf("unknown style %q", style)
		}
		for _, l := range ls {
			for _, cl := range strings.Split(*clients, ",") {
				n := callsFor(l, *calls)
				r, err := row(st, l, cl, n, *timeout)
				if err != nil {
					return err
				}
				fmt.Printf("| %s | %d | %d | %s | %d | %.1f%% | %d of %d | %s | %.1f |\n",
					style, l.writers, l.perSecond, cl, r.requests, 100*float64(r.limited)/float64(max(r.requests, 1)),
					r.failed, l.writers*n, servedShare(r, l), r.elapsed.Seconds())
				bad = bad || (cl == "occ" && r.wrong > 0)
			}
		}
	}
	if bad {
		return errors.New("an occ row lost or doubled an update")
	}
	return nil
}

// traceSeconds prints each second's answers to stderr.
var traceSeconds = flag.Bool("trace", false, "print each second's served and 429 answers to stderr")

// callsFor is how many calls each writer makes.
func callsFor(l load, calls int) int {
	if calls > 0 {
		return calls
	}
	return max(8, (3*l.perSecond+2*l.writers-1)/(2*l.writers)) // two requests a call
}

// servedShare is what the server served of its limit over the run, as
// issue 18 measured it: served requests over the limit times the run's
// seconds. The run's first and last windows are partial, so a short run
// can show more than 100%.
func servedShare(r result, l load) string {
	return fmt.Sprintf("%.0f%%", 100*float64(r.served)/float64(l.perSecond)/r.elapsed.Seconds())
}

var styleNamed = map[string]occtest.RateLimitStyle{
	"none": occtest.RateLimitSilent, "ietf": occtest.RateLimitIETF, "x-ratelimit": occtest.RateLimitX,
}

// parseLoads reads "8x100,32x50".
func parseLoads(s string) ([]load, error) {
	var out []load
	for _, f := range strings.Split(s, ",") {
		w, r, ok := strings.Cut(f, "x")
		wn, err1 := strconv.Atoi(w)
		rn, err2 := strconv.Atoi(r)
		if !ok || err1 != nil || err2 != nil || wn < 1 || rn < 1 {
			return nil, fmt.Errorf("bad load %q: want writers x per-second", f)
		}
		out = append(out, load{wn, rn})
	}
	return out, nil
}

// result is what one row measured.
type result struct {
	requests, limited int
	failed, wrong     int
	elapsed           time.Duration
	served            int // requests not answered 429
}

// counter counts a server's answers.
type counter struct {
	h                 http.Handler
	requests, limited atomic.Int64
	mu                sync.Mutex
	perSecond         map[int64][2]int // unix second: served, 429
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c.h.ServeHTTP(sw, r)
	c.requests.Add(1)
	limited := sw.status == http.StatusTooManyRequests
	if limited {
		c.limited.Add(1)
	}
	{
		c.mu.Lock()
		sec := time.Now().Unix()
		v := c.perSecond[sec]
		if limited {
			v[1]++
		} else {
			v[0]++
		}
		c.perSecond[sec] = v
		c.mu.Unlock()
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// row runs one client against a fresh server.
func row(style occtest.RateLimitStyle, l load, client string, calls int, timeout time.Duration) (result, error) {
	st := occtest.NewStore(occtest.WithRateLimit(l.perSecond, time.Second, style), occtest.WithRequestLog(0))
	for i := range l.writers {
		if err := st.Set(docPath(i), []byte(`{"n":0}`)); err != nil {
			return result{}, err
		}
	}
	cnt := &counter{h: st, perSecond: map[int64][2]int{}}
	srv := httptest.NewUnstartedServer(cnt)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: 2 * l.writers, MaxIdleConnsPerHost: 2 * l.writers}
	defer tr.CloseIdleConnections()
	call, err := clientNamed(client, &http.Client{Transport: tr})
	if err != nil {
		return result{}, err
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range l.writers {
		wg.Go(func() {
			for range calls {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				if call(ctx, srv.URL+docPath(w)) != nil {
					failed.Add(1)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start), failed: int(failed.Load())}
	r.requests, r.limited = int(cnt.requests.Load()), int(cnt.limited.Load())
	r.wrong = wrongDocs(st, l.writers, calls, r.failed)
	end := time.Now()
	if *traceSeconds {
		for sec := start.Unix(); sec <= end.Unix(); sec++ {
			fmt.Fprintf(os.Stderr, "%s %d: served %d, 429 %d\n", client, sec-start.Unix(), cnt.perSecond[sec][0], cnt.perSecond[sec][1])
		}
	}
	r.served = r.requests - r.limited
	return r, nil
}

// wrongDocs counts documents whose count is not the calls that landed
// (only checked when none failed).
func wrongDocs(st *occtest.Store, writers, calls, failed int) int {
	if failed > 0 {
		return 0
	}
	wrong := 0
	for i := range writers {
		raw, _, _ := st.Get(docPath(i))
		var d doc
		if json.Unmarshal(raw, &d) != nil || d.N != calls {
			wrong++
		}
	}
	return wrong
}

func docPath(i int) string { return fmt.Sprintf("/d/%d", i) }

// doc is the benchmark's document.
type doc struct {
	N int `json:"n"`
}

// callFunc makes one read-modify-write call.
type callFunc func(ctx context.Context, url string) error

// clientNamed returns the call of a client.
func clientNamed(name string, hc *http.Client) (callFunc, error) {
	switch name {
	case "occ":
		c, err := occ.New(occ.WithHTTPClient(hc))
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, url string) error {
			_, err := occ.Modify(ctx, c, url, func(d *doc) error { d.N++; return nil })
			return err
		}, nil
	case "retryablehttp":
		rc := retryablehttp.NewClient()
		rc.HTTPClient, rc.Logger = hc, nil
		return rmw(func(req *http.Request) (*http.Response, error) {
			rreq, err := retryablehttp.FromRequest(req)
			if err != nil {
				return nil, err
			}
			return rc.Do(rreq)
		}), nil
	case "retry-after":
		return rmw(func(req *http.Request) (*http.Response, error) { return retryAfterLoop(hc, req) }), nil
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

// retryAfterLoop sends req until it is not answered 429, waiting what
// Retry-After says (a second when absent), at most 10 sends.
func retryAfterLoop(hc *http.Client, req *http.Request) (*http.Response, error) {
	body, err := bodyOf(req)
	if err != nil {
		return nil, err
	}
	for range 10 {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(strings.NewReader(body))
		resp, err := hc.Do(r)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			wait = time.Duration(s) * time.Second
		}
		drain(resp)
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
	}
	return nil, errors.New("still 429 after 10 sends")
}

func bodyOf(req *http.Request) (string, error) {
	if req.Body == nil {
		return "", nil
	}
	b, err := io.ReadAll(req.Body)
	return string(b), err
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// rmw makes a read-modify-write call through send: GET, increment, PUT
// with If-Match; a 412 starts over (at most 10 times).
func rmw(send func(*http.Request) (*http.Response, error)) callFunc {
	return func(ctx context.Context, url string) error {
		for range 10 {
			done, err := rmwOnce(ctx, send, url)
			if done || err != nil {
				return err
			}
		}
		return errors.New("too many conflicts")
	}
}

// rmwOnce makes one read and write; it reports false on a 412.
func rmwOnce(ctx context.Context, send func(*http.Request) (*http.Response, error), url string) (bool, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := send(req)
	if err != nil {
		return false, err
	}
	var d doc
	err = json.NewDecoder(resp.Body).Decode(&d)
	drain(resp)
	if resp.StatusCode != http.StatusOK || err != nil {
		return false, fmt.Errorf("GET: %d %v", resp.StatusCode, err)
	}
	d.N++
	b, _ := json.Marshal(d)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, url, strings.NewReader(string(b)))
	req.Header.Set("If-Match", resp.Header.Get("ETag"))
	req.Header.Set("Content-Type", "application/json")
	resp, err = send(req)
	if err != nil {
		return false, err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusPreconditionFailed:
		return false, nil
	}
	return false, fmt.Errorf("PUT: %d", resp.StatusCode)
}
