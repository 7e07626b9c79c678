package occ

import (
	"sync"
	"time"
)

// hostPacers holds one client's view of each host's rate limit, shared by
// every goroutine using the client. It is safe for concurrent use.
type hostPacers struct {
	mu    sync.Mutex
	hosts map[string]*hostPacer
}

// maxPacedHosts bounds how many hosts a client remembers; past it, an
// arbitrary one is forgotten.
const maxPacedHosts = 256

// host returns the pacer of host, creating it.
func (p *hostPacers) host(host string) *hostPacer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if hp := p.hosts[host]; hp != nil {
		return hp
	}
	if p.hosts == nil {
		p.hosts = make(map[string]*hostPacer)
	}
	if len(p.hosts) >= maxPacedHosts {
		for k := range p.hosts {
			delete(p.hosts, k)
			break
		}
	}
	hp := &hostPacer{}
	p.hosts[host] = hp
	return hp
}

// hostPacer paces the requests to one host. When the host announces its
// limit, it keeps the window's remaining requests (counting its own sends,
// so that requests in flight are not sent twice against one token) and
// holds requests once they are spent until the window resets. When the
// host announces nothing but answers 429, it switches on an adaptive token
// bucket: its rate is the rate of answers the host served over the last
// second, measured when the 429 came, and it grows by adaptGrowth per
// second while no 429 comes.
type hostPacer struct {
	mu sync.Mutex

	// The announced window.
	known     bool
	gen       int       // the window's number, counted by the client
	remaining int       // requests left in it, less the ones sent since
	resetAt   time.Time // when it resets, as best known
	limit     int       // requests per window, 0 when unknown
	window    time.Duration
	firstSeen bool      // an answer of this window has set resetAt
	inflight  int       // requests sent and not answered yet
	blocked   time.Time // a secondary limit's Retry-After holds requests until then

	// The adaptive bucket, when the host announces nothing.
	rate      float64 // tokens per second; 0 while no 429 was met
	tokens    float64
	filled    time.Time // when tokens were last refilled
	throttled time.Time // the last cut of rate
	served    [servedSlots]paceSlot
	servedAt  int64 // the slot index of served's newest slot
}

// paceSlot counts the answers of one slot of time: all, and the ones
// served (not rate-limited).
type paceSlot struct{ all, served int }

const (
	servedSlots  = 10                     // served counts answers in slots of
	servedSlot   = 100 * time.Millisecond // this length: a second in all
	adaptGrowth  = 0.02                   // the bucket's rate grows 2% a second,
	adaptStep    = 0.5                    // and half a request per second
	adaptBeta    = 0.7                    // a 429 cuts the rate to at least this share of the sent rate
	adaptMinRate = 0.5                    // requests per second, at the least
	adaptBurst   = 1.0                    // tokens the bucket holds at most
	adaptQuiet   = 10 * time.Second       // the bucket is dropped after this long without a 429
)

// reserve takes the right to send one request now, or says how long to
// wait before asking again; gen is the window the request counts in.
func (hp *hostPacer) reserve(now time.Time) (wait time.Duration, gen int, guess bool) {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if hp.known {
		wait = hp.reserveWindow(now)
	} else {
		wait, guess = hp.reserveBucket(now), true
	}
	if wait <= 0 {
		hp.inflight++
	}
	return wait, hp.gen, guess
}

// force counts a send that the adaptive bucket would have held: it takes a
// token the bucket does not have yet, so that the sends after it wait
// longer.
func (hp *hostPacer) force() {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.tokens--
	hp.inflight++
}

// release records that a request reserved was not answered.
func (hp *hostPacer) release() {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.inflight = max(hp.inflight-1, 0)
}

// pending returns how long until the host's window resets when no request
// is left in it, and whether the host announced a window.
func (hp *hostPacer) pending(now time.Time) (time.Duration, bool) {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	switch {
	case !hp.known:
		return 0, false
	case now.Before(hp.blocked):
		return hp.blocked.Sub(now), true
	case hp.remaining > 0 || !now.Before(hp.resetAt):
		return 0, true
	}
	return hp.resetAt.Sub(now), true
}

// reserveWindow paces by the announced window.
func (hp *hostPacer) reserveWindow(now time.Time) time.Duration {
	if now.Before(hp.blocked) {
		return hp.blocked.Sub(now)
	}
	if !now.Before(hp.resetAt) {
		hp.nextWindow(now)
	}
	if hp.remaining > 0 {
		hp.remaining--
		return 0
	}
	return hp.resetAt.Sub(now)
}

// nextWindow starts the window after the one that reset: its size is the
// announced limit (one probe request when unknown), and it resets one
// window later (a second when unknown, until an answer says).
func (hp *hostPacer) nextWindow(now time.Time) {
	hp.gen++
	hp.firstSeen = false
	hp.remaining = max(hp.limit, 1)
	w := hp.window
	if w <= 0 {
		w = time.Second
	}
	next := hp.resetAt.Add(w)
	if next.Before(now) {
		next = now.Add(w)
	}
	hp.resetAt = next
}

// reserveBucket paces by the adaptive bucket, if a 429 switched it on.
func (hp *hostPacer) reserveBucket(now time.Time) time.Duration {
	if hp.rate > 0 && now.Sub(hp.throttled) > adaptQuiet {
		hp.rate = 0
	}
	if hp.rate <= 0 {
		return 0
	}
	if dt := now.Sub(hp.filled).Seconds(); dt > 0 {
		hp.rate = hp.rate*(1+adaptGrowth*min(dt, 1)) + adaptStep*min(dt, 1)
		hp.tokens = min(adaptBurst, hp.tokens+dt*hp.rate)
		hp.filled = now
	}
	if hp.tokens >= 1 {
		hp.tokens--
		return 0
	}
	return time.Duration((1 - hp.tokens) / hp.rate * float64(time.Second))
}

// observe learns from one answer to a request reserved in window gen: rl
// is what it announced (nil for nothing), limited whether it was a
// rate-limited answer (429, or 503 with a wait).
func (hp *hostPacer) observe(now time.Time, gen int, rl *RateLimit, limited bool) {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	hp.inflight = max(hp.inflight-1, 0)
	switch {
	case rl != nil && rl.Remaining >= 0 && rl.Reset > 0:
		hp.announced(now, gen, rl, limited)
	case hp.known && limited:
		hp.limitedBy(now, rl)
	case !hp.known:
		hp.count(now, limited)
		if limited {
			hp.throttle(now)
		}
	}
}

// waitOf is the wait rl asks for, or 0.
func waitOf(rl *RateLimit) time.Duration {
	if rl == nil {
		return 0
	}
	return max(rl.RetryAfter, rl.Reset)
}

// announced takes a window's announcement (one that says when it resets).
// The first one learnt, and the answer to a window's probe when no limit is
// known, are less the requests in flight (others were counted as they were
// sent). An
// answer to a request reserved in an earlier window is stale and only a 429
// of it counts.
func (hp *hostPacer) announced(now time.Time, gen int, rl *RateLimit, limited bool) {
	if rl.Limit > 0 {
		hp.limit = rl.Limit
	}
	if rl.Window > 0 {
		hp.window = rl.Window
	}
	switch {
	case !hp.known:
		hp.known, hp.gen, hp.firstSeen = true, 1, true
		hp.remaining, hp.resetAt = rl.Remaining-hp.inflight, now.Add(rl.Reset)
	case gen == hp.gen && hp.limit == 0 && !hp.firstSeen:
		// The window's probe: with no limit known, its answer tells what is left.
		hp.remaining = rl.Remaining - hp.inflight
		hp.resetAt, hp.firstSeen = now.Add(rl.Reset), true
	case gen == hp.gen:
		hp.remaining = min(hp.remaining, rl.Remaining)
		if at := now.Add(rl.Reset); !hp.firstSeen || at.Before(hp.resetAt) {
			hp.resetAt, hp.firstSeen = at, true
		}
	}
	if limited {
		hp.limitedBy(now, rl)
	}
}

// limitedBy records a rate-limited answer from a host whose window is
// known. One that says requests are left in the window is a limit of its
// own (a secondary limit): the host's requests wait its Retry-After.
// Otherwise no request is left, and when the window was thought over, it
// resets after the wait the answer asked for.
func (hp *hostPacer) limitedBy(now time.Time, rl *RateLimit) {
	if rl != nil && rl.Remaining > 0 && rl.RetryAfter > 0 {
		if until := now.Add(rl.RetryAfter); until.After(hp.blocked) {
			hp.blocked = until
		}
		return
	}
	hp.remaining = 0
	if !now.Before(hp.resetAt) {
		hp.resetAt = now.Add(max(waitOf(rl), servedSlot))
	}
}

// throttle cuts the bucket's rate to what the host served over the last
// second, or adaptBeta of what it was sent when more, at most once a
// second. Within that second the answers of requests already in flight
// tell what the host did serve: the rate may rise to it.
func (hp *hostPacer) throttle(now time.Time) {
	var sum paceSlot
	for _, a := range hp.served {
		sum.all += a.all
		sum.served += a.served
	}
	if hp.rate > 0 && now.Sub(hp.throttled) < time.Second {
		hp.rate = max(hp.rate, float64(sum.served))
		return
	}
	hp.rate = max(float64(sum.served), adaptBeta*float64(sum.all), adaptMinRate)
	hp.tokens, hp.filled, hp.throttled = 0, now, now
}

// count records an answer, for throttle's measure.
func (hp *hostPacer) count(now time.Time, limited bool) {
	hp.advance(now)
	a := &hp.served[hp.servedAt%servedSlots]
	a.all++
	if !limited {
		a.served++
	}
}

// advance moves served's slots to now, clearing the ones that passed.
func (hp *hostPacer) advance(now time.Time) {
	slot := now.UnixNano() / int64(servedSlot)
	for i := 0; i < servedSlots && hp.servedAt < slot; i++ {
		hp.servedAt++
		hp.served[hp.servedAt%servedSlots] = paceSlot{}
	}
	hp.servedAt = max(hp.servedAt, slot)
}
