package sim

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"brownout/contract"
	"brownout/faults"
	"brownout/recording"
	"brownout/scenarios"
)

// Limits of the distortion checks (the others are in package recording).
const (
	// toleranceShare is the share of the shortest deciding duration that
	// a timing error may reach (see recording.Distortion.Tolerance).
	toleranceShare = 0.10
	// probeEvery is the real period of the timer probe.
	probeEvery = 2 * time.Millisecond
	// minPhaseHits is the fewest expected requests for which a phase's
	// achieved rate is judged; below it one request is a large share.
	minPhaseHits = 20
)

// Tolerance returns the scenario time a timing error may reach in sc: a
// tenth of the shortest duration that decides a breaker transition.
func Tolerance(sc *scenarios.Scenario) time.Duration {
	shortest := time.Duration(0)
	consider := func(d time.Duration) {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	consider(sc.Breaker.CallTimeout.D())
	consider(sc.Breaker.ResetTimeout.D())
	consider(sc.Breaker.Interval.D())
	consider(sc.Load.Timeout.D())
	for _, p := range sc.Phases {
		consider(p.Duration.D())
		consider(p.Load.Timeout.D())
	}
	return time.Duration(float64(shortest) * toleranceShare)
}

// distortionMeter gathers, while a run plays, what says whether this
// machine kept up with the time scale: upstream calls joined with the
// fake's log, a timer probe's lateness and the requests sent per phase.
type distortionMeter struct {
	k           float64
	callTimeout time.Duration // real

	mu         sync.Mutex
	halves     map[string]callHalf // upstream call id -> what is known so far
	fakeOnly   atomic.Bool         // an external target: judge the fake's side alone
	calls      int64
	timedOut   int64
	contention int64
	waitSum    time.Duration
	planSum    time.Duration
	sent       map[string]int64 // phase -> requests sent in it
	lags       samples          // real send lag of each request
	local      samples          // real latency of answers the breaker kept from the upstream

	// the breaker whose open→half-open lateness is measured ("" when it
	// cannot be: see timeBreaker), and what that needs
	t0       time.Time
	pacer    *PhasePacer
	reset    time.Duration // real
	timed    string
	opened   time.Time       // its last transition to open
	halfLate []time.Duration // real, one per open→half-open transition

	probe     *timerProbe
	probeStop chan struct{}
	probeDone chan struct{}
}

// callHalf is one side of an upstream call: what the assistant's side saw
// (client) or what the fake logged (fake).
type callHalf struct {
	client, fake bool
	wait         time.Duration // real time the assistant waited
	timedOut     bool          // the call ran out of its call timeout
	completed    bool          // the body was read to the end
	planned      time.Duration // fake: delay plus queue wait
	gotSlot      bool
}

// newDistortionMeter measures a run of real (the compressed scenario) at
// time scale k; probe is false in virtual time, where timers are exact.
func newDistortionMeter(real *scenarios.Scenario, k float64, probe bool) *distortionMeter {
	m := &distortionMeter{k: k, callTimeout: real.Breaker.CallTimeout.D(),
		halves: make(map[string]callHalf), sent: make(map[string]int64)}
	if probe {
		m.probe = &timerProbe{}
	}
	return m
}

// start starts the timer probe of a run whose clock started at t0 and
// whose requests are due by pacer.
func (m *distortionMeter) start(t0 time.Time, pacer *PhasePacer) {
	m.mu.Lock()
	m.t0, m.pacer = t0, pacer
	m.mu.Unlock()
	if m.probe == nil {
		return
	}
	m.probeStop, m.probeDone = make(chan struct{}), make(chan struct{})
	go m.probe.run(probeEvery, m.probeStop, m.probeDone)
}

// stop stops the timer probe.
func (m *distortionMeter) stop() {
	if m.probeStop != nil {
		close(m.probeStop)
		<-m.probeDone
		m.probeStop = nil
	}
}

// request counts a request sent in phase, lag (real time) after it was
// due.
func (m *distortionMeter) request(phase string, lag time.Duration) {
	m.mu.Lock()
	m.sent[phase]++
	m.lags.add(lag)
	m.mu.Unlock()
}

// localWork records the real latency of an answer made without an
// upstream call (the breaker refused it): the service's own work.
func (m *distortionMeter) localWork(d time.Duration) {
	m.mu.Lock()
	m.local.add(d)
	m.mu.Unlock()
}

// timeBreaker makes the meter measure the open→half-open lateness of the
// named breaker, whose reset timeout is reset (real time). Call it before
// start, and only for a breaker every request reaches first and whose
// transitions are seen exactly (in process, one replica): its half-open
// transition happens when the first request after the reset timeout
// reaches it, so that request's due time says when it should have.
func (m *distortionMeter) timeBreaker(name string, reset time.Duration) {
	m.timed, m.reset = name, reset
}

// transition notes a transition of a breaker; it runs under the breaker's
// lock, so it only computes.
func (m *distortionMeter) transition(tr Transition) {
	if m.timed == "" || tr.Breaker != m.timed || tr.Resolution != 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case tr.To == contract.StateOpen:
		m.opened = tr.At
	case tr.From == contract.StateOpen && tr.To == contract.StateHalfOpen && !m.opened.IsZero() && m.pacer != nil:
		if late, ok := halfOpenLateness(m.pacer, m.t0, m.opened.Add(m.reset), tr.At); ok {
			m.halfLate = append(m.halfLate, late)
		}
	}
}

// halfOpenLateness is how late a breaker that could turn half-open at
// expiry did so at at, when requests are due by pacer from t0: it should
// have turned when the first request due at or after expiry reached it.
// False when no request was due after expiry.
func halfOpenLateness(pacer *PhasePacer, t0, expiry, at time.Time) (time.Duration, bool) {
	if expiry.Before(t0) {
		expiry = t0
	}
	if expiry.Sub(t0) >= pacer.total {
		return 0, false
	}
	n := math.Ceil(pacer.expected(expiry.Sub(t0))) - 1
	due := t0.Add(pacer.Due(uint64(max(n, 0))))
	if due.Before(expiry) {
		due = expiry
	}
	return max(at.Sub(due), 0), true
}

// clientSide records the assistant's side of upstream call id.
func (m *distortionMeter) clientSide(id string, wait time.Duration, timedOut, completed bool) {
	m.join(id, callHalf{client: true, wait: wait, timedOut: timedOut, completed: completed})
}

// fakeSide records the fake's log entry of an upstream call.
func (m *distortionMeter) fakeSide(c *faults.Call) {
	if m.fakeOnly.Load() {
		m.judgeFake(c)
		return
	}
	m.join(c.RequestID, callHalf{fake: true, planned: c.Delay + c.Queued, gotSlot: c.GotSlot})
}

// seeFakeSideOnly makes the meter judge upstream calls from the fake's
// log alone: an external target's side of its calls is not seen, so
// nothing would join them.
func (m *distortionMeter) seeFakeSideOnly() {
	m.fakeOnly.Store(true)
	m.mu.Lock()
	clear(m.halves)
	m.mu.Unlock()
}

// judgeFake counts an inference call seen from the fake's side only. A
// call the caller left before the fake was done timed out (or was
// abandoned); when its planned delay and queue wait were shorter than the
// call timeout, the machine made it late. A completed call's duration
// against its plan is the fake's own overhead: a lower bound of the
// slowdown the caller saw, whose HTTP client's share is not seen.
func (m *distortionMeter) judgeFake(c *faults.Call) {
	if !inferenceRoutes[c.Route] {
		return
	}
	planned := c.Delay + c.Queued
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	switch {
	case c.Duration < planned:
		m.timedOut++
		if c.GotSlot && planned < m.callTimeout {
			m.contention++
		}
	case c.Status != 0 && planned > 0:
		m.waitSum += c.Duration
		m.planSum += planned
	}
}

// inferenceRoutes are the fake's routes (faults.Call.Route) that answer
// an inference request; health and model listings are not judged.
var inferenceRoutes = map[string]bool{"chat": true, "completions": true, "compat": true, "generate": true, "generate_stream": true}

func (m *distortionMeter) join(id string, h callHalf) {
	if id == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	other, ok := m.halves[id]
	if !ok {
		m.halves[id] = h
		return
	}
	delete(m.halves, id)
	if h.fake {
		h.planned, h.gotSlot, h.fake = other.planned, other.gotSlot, true
		h.client, h.wait, h.timedOut, h.completed = other.client, other.wait, other.timedOut, other.completed
	} else {
		h.planned, h.gotSlot, h.fake = other.planned, other.gotSlot, true
	}
	m.judge(h)
}

// judge counts one joined call.
func (m *distortionMeter) judge(h callHalf) {
	m.calls++
	switch {
	case h.timedOut:
		m.timedOut++
		if h.gotSlot && h.planned < m.callTimeout {
			m.contention++
		}
	case h.completed && h.planned > 0:
		m.waitSum += h.wait
		m.planSum += h.planned
	}
}

// finish computes the checks of a run whose header is h and that covered
// real time covered of the pacer's pattern.
func (m *distortionMeter) finish(sc *scenarios.Scenario, h *recording.Header, pacer *PhasePacer, covered time.Duration) *recording.Distortion {
	m.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	d := &recording.Distortion{
		Tolerance:          Tolerance(sc),
		UpstreamCalls:      m.calls,
		TimedOutCalls:      m.timedOut,
		ContentionTimeouts: m.contention,
		AchievedRateRatio:  1,
	}
	worst := m.achievedRate(d, h, pacer, covered)
	m.timings(d)
	if m.k > 1 {
		// At K=1 nothing is compressed: the run is as honest as this
		// machine can make it, whatever the figures.
		d.Reasons = distortionReasons(d, m.k, worst)
	}
	d.Distorted = len(d.Reasons) > 0
	return d
}

// achievedRate sets d's request counts and worst per-phase achieved rate,
// over the phases the run covered in full, and returns that phase's name.
func (m *distortionMeter) achievedRate(d *recording.Distortion, h *recording.Header, pacer *PhasePacer, covered time.Duration) (worst string) {
	for _, p := range h.Phases {
		from, to := time.Duration(float64(p.Start)/m.k), time.Duration(float64(p.End)/m.k)
		if to > covered {
			continue
		}
		want := pacer.expected(to) - pacer.expected(from)
		got := m.sent[p.Name]
		d.TargetRequests += int64(want + 0.5)
		d.SentRequests += got
		if want >= minPhaseHits {
			if r := float64(got) / want; r < d.AchievedRateRatio {
				d.AchievedRateRatio, worst = r, p.Name
			}
		}
	}
	return worst
}

// timings sets d's timing figures, in scenario time.
func (m *distortionMeter) timings(d *recording.Distortion) {
	toScenario := func(x time.Duration) time.Duration { return time.Duration(float64(x) * m.k) }
	if m.planSum > 0 {
		// The machine's overhead on a call (HTTP, scheduling) is real time
		// that the latency correction scales up with the planned delay:
		// in scenario time it adds (K−1)/K of itself per unit of the
		// scaled delay. At K=1 nothing is scaled.
		over := float64(m.waitSum)/float64(m.planSum) - 1
		d.UpstreamSlowdown = max(0, over) * (m.k - 1) / m.k
	}
	if m.probe != nil {
		p99, mx := m.probe.lateness()
		d.TimerLatenessP99, d.TimerLatenessMax = toScenario(p99), toScenario(mx)
	}
	d.SendLagP99 = toScenario(m.lags.quantile(0.99))
	d.LocalWorkP99 = m.local.quantile(0.99)
	d.LocalWorkShift = time.Duration(float64(d.LocalWorkP99) * (m.k - 1))
	d.BreakerTimers = len(m.halfLate)
	if len(m.halfLate) > 0 {
		d.BreakerLatenessMax = toScenario(slices.Max(m.halfLate))
	}
}

// distortionReasons says, in words a user can act on, which of d's checks
// of a run at time scale k are beyond their limits; worst is the phase of
// the lowest achieved rate.
func distortionReasons(d *recording.Distortion, k float64, worst string) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if d.AchievedRateRatio < recording.MinAchievedRate {
		add("the load generator sent %.0f%% of the target rate in phase %q (limit %.0f%%): this machine cannot send that fast at time scale %g",
			100*d.AchievedRateRatio, worst, 100*recording.MinAchievedRate, k)
	}
	if d.ContentionTimeouts > 0 && float64(d.ContentionTimeouts) > recording.MaxContentionTimeoutShare*float64(d.UpstreamCalls) {
		add("%d of %d upstream calls timed out although the fake meant to answer them within the call timeout (limit %.1f%%): CPU contention, not the scenario",
			d.ContentionTimeouts, d.UpstreamCalls, 100*recording.MaxContentionTimeoutShare)
	}
	if d.UpstreamSlowdown > recording.MaxUpstreamSlowdown {
		add("upstream calls took %.0f%% longer than the fake planned (limit %.0f%%): this machine's own overhead, scaled up %g times",
			100*d.UpstreamSlowdown, 100*recording.MaxUpstreamSlowdown, k)
	}
	if d.SendLagP99 > d.Tolerance {
		add("the load generator sent requests %v late (p99, scenario time), more than the %v tolerance: requests did not arrive when the scenario says",
			d.SendLagP99.Round(time.Millisecond), d.Tolerance)
	}
	if d.LocalWorkShift > d.Tolerance {
		add("the service's own work (p99 %v of real time on an answer without an upstream call) is not compressed, so it weighs %v in scenario time, more than the %v tolerance: events after it happen late against the scaled timers",
			d.LocalWorkP99.Round(10*time.Microsecond), d.LocalWorkShift.Round(time.Millisecond), d.Tolerance)
	}
	if d.BreakerLatenessMax > d.Tolerance {
		add("the breaker turned half-open up to %v after the first request due past its reset timeout (scenario time), more than the %v tolerance",
			d.BreakerLatenessMax.Round(time.Millisecond), d.Tolerance)
	}
	if d.TimerLatenessP99 > d.Tolerance {
		add("timers fired %v late (p99, scenario time), more than the %v tolerance (a tenth of the shortest breaker, timeout or phase duration)",
			d.TimerLatenessP99.Round(time.Millisecond), d.Tolerance)
	}
	return out
}

// timerProbe measures how late timers fire on this machine while the run
// plays: the call timeout, the client timeout and the fake's delays are
// all timers, and a timer that fires 2 ms late at time scale 50 is 100 ms
// late in scenario time.
type timerProbe struct {
	mu   sync.Mutex
	late samples
}

func (p *timerProbe) run(every time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(every)
	defer t.Stop()
	due := time.Now().Add(every)
	for {
		select {
		case <-t.C:
			now := time.Now()
			p.mu.Lock()
			p.late.add(now.Sub(due))
			p.mu.Unlock()
			due = now.Add(every)
			t.Reset(every)
		case <-stop:
			return
		}
	}
}

// lateness returns the 99th percentile and the maximum lateness seen.
func (p *timerProbe) lateness() (p99, mx time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.late.quantile(0.99), p.late.max
}

// maxSamples bounds the memory of a samples; later samples replace
// earlier ones in turn, so a long run keeps its last maxSamples.
const maxSamples = 1 << 17

// samples keeps durations for a percentile, and the largest of all.
type samples struct {
	s   []time.Duration
	n   int
	max time.Duration
}

func (s *samples) add(d time.Duration) {
	if len(s.s) < maxSamples {
		s.s = append(s.s, d)
	} else {
		s.s[s.n%maxSamples] = d
	}
	s.n++
	s.max = max(s.max, d)
}

// quantile returns the nearest-rank q-quantile of the kept samples, 0
// when there are none.
func (s *samples) quantile(q float64) time.Duration {
	if len(s.s) == 0 {
		return 0
	}
	c := slices.Clone(s.s)
	slices.Sort(c)
	return c[int(float64(len(c))*q)]
}
