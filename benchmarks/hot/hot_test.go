package hot

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// servers are the server settings every tiny run covers.
var servers = []struct {
	name string
	cfg  ServerConfig
}{
	{"412", ServerConfig{}},
	{"409", ServerConfig{Conflict409: true}},
	{"412 current", ServerConfig{CurrentInConflict: true}},
	{"409 current", ServerConfig{Conflict409: true, CurrentInConflict: true}},
}

// TestTinyRun runs every row, tiny, on every workload and server setting:
// the occ rows land every update and lose none.
func TestTinyRun(t *testing.T) {
	const writers, updates = 2, 3
	p, err := ParsePolicy("hump:1ms:4ms:2:1:2")
	require.NoError(t, err)
	for _, srv := range servers {
		for _, wl := range []Workload{Counter(), Disjoint(writers), Spread(2)} {
			t.Run(srv.name+"/"+wl.Name, func(t *testing.T) {
				cfg := Config{Writers: writers, Updates: updates, Server: srv.cfg, Workload: wl, Timeout: 30 * time.Second}
				rows, err := Select(Strategies([]Policy{p}, PerWriter, Shared), wl, "")
				require.NoError(t, err)
				for _, st := range rows {
					res, err := Run(context.Background(), cfg, st)
					require.NoError(t, err, st.Name)
					if !st.Occ {
						continue
					}
					assert.Equal(t, int64(writers*updates), res.Landed, st.Name)
					assert.Zero(t, res.GaveUp, "%s: %v", st.Name, res.Reasons)
					assert.Zero(t, res.Lost, st.Name)
					assert.Zero(t, res.Extra, st.Name)
					if st.Layout == PerWriter {
						assert.Equal(t, res.Counts.Commits, res.Landed, st.Name)
					} else { // a shared client's coalesced calls share writes
						assert.LessOrEqual(t, res.Counts.Commits, res.Landed, st.Name)
					}
				}
			})
		}
	}
}

// carriesWholeDocument reports whether cfg's conflict answers are the
// current document itself (a 412 whose body is the document, at a
// Content-Location naming it), which occ plans on without a GET. A 409
// problem+json with the document as its "current" member is not: occ never
// takes a member for the document by its name, and reads instead.
func carriesWholeDocument(cfg ServerConfig) bool {
	return cfg.CurrentInConflict && !cfg.Conflict409
}

// TestConflictAnswerSavesTheGET shows the server's current-document mode
// at work: occ Modify, retrying at once, reads once per update when
// conflict answers are the document, and once more per conflict when they
// are not.
func TestConflictAnswerSavesTheGET(t *testing.T) {
	noWait := occ.BackoffFunc(func(int) time.Duration { return 0 })
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			cfg := Config{Writers: 4, Updates: 5, Server: srv.cfg, Timeout: 30 * time.Second}
			res, err := Run(context.Background(), cfg, Modify("occ", PerWriter, With(occ.WithBackoff(noWait))))
			require.NoError(t, err)
			require.Equal(t, int64(20), res.Landed)
			extra := res.Counts.Conflicts
			if carriesWholeDocument(srv.cfg) {
				extra = 0
			}
			assert.Equal(t, res.Landed+extra, res.Counts.Reads)
			assert.Equal(t, res.Landed+res.Counts.Conflicts, res.Counts.Puts)
		})
	}
}

// TestConflictAnswers checks what a stale write gets: a retryable version
// conflict, carrying the current document when configured.
func TestConflictAnswers(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := NewServer(srv.cfg, Counter().Seed())
			defer s.Close()
			c, err := occ.New(occ.WithHTTPClient(s.http.Client()))
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPut, s.URL("d0"), strings.NewReader(`{"n":5}`))
			require.NoError(t, err)
			req.Header.Set("If-Match", `"v0"`)
			_, err = c.Do(req)
			var ce *occ.ConflictError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, occ.KindVersion, ce.Kind)
			assert.True(t, ce.Retryable())
			if srv.cfg.CurrentInConflict {
				assert.JSONEq(t, `{"n":0}`, string(ce.Current))
				assert.Equal(t, `"v1"`, ce.Header.Get("ETag"))
				assert.Equal(t, "/docs/d0", ce.Header.Get("Content-Location"))
			} else {
				assert.Empty(t, ce.Current)
			}
			assert.Equal(t, Counts{Requests: 1, Puts: 1, Conflicts: 1}, s.Counts())
		})
	}
}

// TestBlindWriteCommits shows the blind overwrite commits without If-Match,
// and Tally counts what it loses.
func TestBlindWriteCommits(t *testing.T) {
	wl := Counter()
	s := NewServer(ServerConfig{}, wl.Seed())
	defer s.Close()
	hc := s.http.Client()
	ctx := context.Background()
	doc, _, err := getDoc(ctx, hc, s.URL("d0"))
	require.NoError(t, err)
	require.NoError(t, increment(ctx, hc, s.URL("d0"), "n", false))
	doc["n"]++ // a second writer's increment, from the same read
	require.NoError(t, putDoc(ctx, hc, s.URL("d0"), doc, ""))
	lost, extra, err := wl.Tally(s.Snapshot(), map[Unit]int{{"d0", "n"}: 2})
	require.NoError(t, err)
	assert.Equal(t, int64(1), lost)
	assert.Zero(t, extra)
	assert.ErrorIs(t, putDoc(ctx, hc, s.URL("d0"), doc, `"v1"`), errConflict)
}

// TestCheck fails a table whose occ row lost an update, not one whose
// blind row did.
func TestCheck(t *testing.T) {
	assert.NoError(t, Check([]Row{{Name: "blind", Lost: 3}, {Name: "occ", Occ: true}}))
	assert.ErrorIs(t, Check([]Row{{Name: "occ", Occ: true, Lost: 1}}), ErrLost)
	assert.ErrorIs(t, Check([]Row{{Name: "occ", Occ: true, Extra: 1}}), ErrLost)
}

func TestParsePolicy(t *testing.T) {
	for _, spec := range []string{"default", "lifted", "full:2ms:128ms", "equal:1ms:1s", "const:50ms",
		"aging:2ms:128ms:6", "hump:2ms:256ms:9:1:4", "adaptive:3:1", "paced:8", "pacedx:8", "aged:8:1:1", "step:2ms:512ms:10:10ms", "tilt:5:4:12"} {
		p, err := ParsePolicy(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, spec, p.Name)
		if spec == "default" {
			assert.Nil(t, p.Options)
			continue
		}
		_, err = occ.New(p.Options()...)
		assert.NoError(t, err, spec)
	}
	for _, spec := range []string{"", "full:2ms", "nope:1ms", "const:soon"} {
		_, err := ParsePolicy(spec)
		assert.Error(t, err, spec)
	}
}

// TestBackoffBounds checks every candidate stays under its ceiling.
func TestBackoffBounds(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		b    occ.Backoff
		ceil func(n int) time.Duration
	}{
		{"equal", EqualJitter(2*ms, 64*ms), func(n int) time.Duration { return ceiling(2*ms, 64*ms, n) }},
		{"const", Constant(10 * ms), func(int) time.Duration { return 10 * ms }},
		{"aging", Aging(2*ms, 64*ms, 3), func(n int) time.Duration {
			return ceiling(2*ms, 64*ms, min(n, 3)) >> max(0, n-3)
		}},
		{"hump", Hump(2*ms, 64*ms, 8, 1, 4), func(n int) time.Duration {
			if n <= 8 {
				return ceiling(2*ms, 64*ms, n)
			}
			return max(16*ms, 64*ms*8/time.Duration(n))
		}},
		{"paced", NewPaced(2), func(int) time.Duration { return 20 * ms }},
		{"pacedx", NewPacedRise(4), func(n int) time.Duration { return 10 * ms << min(n-1, 2) }},
		{"adaptive", NewAdaptive(3, 1), func(int) time.Duration { return maxScale }},
		{"aged", NewAged(4, 1, 1), func(int) time.Duration { return 40 * ms }},
		{"tilt", NewTilt(4, 2, 4), func(int) time.Duration { return 4 * 4 * 10 * ms }},
		{"step", Step(2*ms, 64*ms, 5, 3*ms), func(n int) time.Duration {
			if n >= 5 {
				return 3 * ms
			}
			return ceiling(2*ms, 64*ms, n)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for n := 1; n <= 20; n++ {
				for range 50 {
					d := c.b.Backoff(n)
					assert.GreaterOrEqual(t, d, time.Duration(0), "n=%d", n)
					assert.LessOrEqual(t, d, c.ceil(n), "n=%d", n)
				}
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), quantile(d, 0.5))
	assert.Equal(t, time.Duration(10), quantile(d, 0.99))
	assert.Equal(t, time.Duration(10), quantile(d, 1))
	assert.Zero(t, quantile(nil, 0.5))
}

// TestConflictAnswerRefresh forces one conflict: occ Modify then reads
// again only when the conflict answer does not carry the document (retrying
// at once: after a backoff longer than the write took, occ reads anyway,
// since the carried document is stale by then).
func TestConflictAnswerRefresh(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := NewServer(srv.cfg, Counter().Seed())
			defer s.Close()
			hc := s.http.Client()
			interfered := false
			interfere := func(ctx context.Context, a occ.Request) {
				if a.Method == http.MethodPut && !interfered {
					interfered = true
					require.NoError(t, increment(ctx, hc, s.URL("d0"), "n", true))
				}
			}
			noWait := occ.BackoffFunc(func(int) time.Duration { return 0 })
			c, err := occ.New(occ.WithHTTPClient(hc), occ.WithHooks(occ.Hooks{OnRequest: interfere}), occ.WithBackoff(noWait))
			require.NoError(t, err)
			_, err = occ.Modify(context.Background(), c, s.URL("d0"), func(d *map[string]int64) error {
				(*d)["n"]++
				return nil
			})
			require.NoError(t, err)
			reads := int64(3) // occ's two, the interfering writer's one
			if carriesWholeDocument(srv.cfg) {
				reads = 2
			}
			assert.Equal(t, Counts{Requests: reads + 3, Reads: reads, Puts: 3, Commits: 2, Conflicts: 1}, s.Counts())
			assert.JSONEq(t, `{"n":2}`, string(s.Snapshot()["d0"]))
		})
	}
}
