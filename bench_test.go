package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// handWritten is the read-modify-write a Go engineer writes by hand with
// net/http: GET, decode, change, encode, PUT with If-Match.
func handWritten(ctx context.Context, hc *http.Client, url string, change func(*item) error) (item, error) {
	return handWrittenWith(ctx, hc, url, change, false)
}

// handWrittenWith is handWritten; with occHeaders, its requests also carry
// the two headers occ sends that the plain loop does not (Accept on both,
// an Idempotency-Key on the PUT), to tell their cost from occ's code.
func handWrittenWith(ctx context.Context, hc *http.Client, url string, change func(*item) error, occHeaders bool) (item, error) {
	var v item
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if occHeaders {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return v, err
	}
	etag := resp.Header.Get("ETag")
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil {
		return v, err
	}
	if err := change(&v); err != nil {
		return v, err
	}
	body, _ := json.Marshal(v)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	req.Header.Set("If-Match", etag)
	req.Header.Set("Content-Type", "application/json")
	if occHeaders {
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Idempotency-Key", newIdempotencyKey())
	}
	resp, err = hc.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("status %d", resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	_, _ = io.Copy(io.Discard, resp.Body)
	return v, err
}

// BenchmarkModify compares an uncontended Modify with the hand-written
// GET+PUT over the same *http.Client and loopback server, on a document
// the caller's type models whole. occ-unmodelled is Modify on a document
// with a member the type does not model, which occ keeps by a three-way
// rebase (the hand-written loop would drop it).
func BenchmarkModify(b *testing.B) {
	ctx := context.Background()
	serve := func(doc string) (url string, hc *http.Client) {
		api := newFakeAPI(doc)
		api.quiet = true
		srv := httptest.NewServer(api)
		b.Cleanup(srv.Close)
		return srv.URL, srv.Client()
	}
	url, hc := serve(`{"name":"bench","count":0}`)
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuClock()
		for b.Loop() {
			if _, err := handWritten(ctx, hc, url, incr); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
	})
	extraURL, extraHC := serve(`{"name":"bench","count":0,"extra":{"a":[1,2,3],"b":"keep me"}}`)
	for _, row := range []struct {
		name string
		url  string
		hc   *http.Client
		opt  Option
	}{
		{"impl=occ", url, hc, WithCoalescing(true)},
		{"impl=occ-uncoalesced", url, hc, WithCoalescing(false)},
		{"impl=occ-unmodelled", extraURL, extraHC, WithCoalescing(true)},
	} {
		b.Run(row.name, func(b *testing.B) {
			c, err := New(WithHTTPClient(row.hc), row.opt)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := cpuClock()
			for b.Loop() {
				if _, err := Modify(ctx, c, row.url, incr); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkModifyPaired runs the hand-written GET+PUT, the same with occ's
// headers, and an uncontended Modify in turns, in one loop over the same
// *http.Client and loopback server, and times each call. Noise from the
// rest of the machine falls on all three alike, so their ratios are
// steadier than those of separate benchmarks. The order rotates, so none
// always follows another. occ/hand is the target's ratio; headers/hand
// is the share of it that the headers occ sends cost on both ends.
func BenchmarkModifyPaired(b *testing.B) {
	api := newFakeAPI(`{"name":"bench","count":0}`)
	api.quiet = true
	srv := httptest.NewServer(api)
	defer srv.Close()
	hc := srv.Client()
	ctx := context.Background()
	c, err := New(WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	calls := [3]func() error{
		func() error { _, err := handWritten(ctx, hc, srv.URL, incr); return err },
		func() error { _, err := handWrittenWith(ctx, hc, srv.URL, incr, true); return err },
		func() error { _, err := Modify(ctx, c, srv.URL, incr); return err },
	}
	var spent [3]time.Duration
	n := 0
	for b.Loop() {
		for k := range 3 {
			i := (n + k) % 3
			start := time.Now()
			if err := calls[i](); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
		n++
	}
	b.ReportMetric(float64(spent[0])/float64(n), "hand-ns/op")
	b.ReportMetric(float64(spent[2])/float64(n), "occ-ns/op")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "headers/hand")
	b.ReportMetric(float64(spent[2])/float64(spent[0]), "occ/hand")
}

// cpuTime is the process's CPU time (user and system) at a point: the
// client's and the in-process server's work.
type cpuTime time.Duration

// cpuClock reads the process's CPU time.
func cpuClock() cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return cpuTime(time.Duration(ru.Utime.Nano() + ru.Stime.Nano()))
}

// report records the CPU time spent since t per iteration, as cpu-ns/op.
func (t cpuTime) report(b *testing.B) {
	now := cpuClock()
	if t < 0 || now < 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(now-t)/float64(b.N), "cpu-ns/op")
}
