package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/contract"
	"brownout/faults"
	"brownout/recording"
	"brownout/scenarios"
)

// play is the state of one run, filled in step by step by runner.run.
type play struct {
	*runner
	sc      *scenarios.Scenario // as written, in scenario time
	scaled  *scenarios.Scenario // durations divided by the time scale
	k       float64
	queries []string
	pacer   *PhasePacer
	header  recording.Header

	// recording (nil without an output folder)
	rec         *recording.Writer
	vegetaEnc   vegeta.Encoder
	stopFlushes func() // the flushes at phase ends still pending
	recErr      error  // first error writing a record
	recErrMu    sync.Mutex
	recClosed   bool

	// the breaker's history, fed by the target; records look up the
	// state at their own times in it
	hist  *breakerHistory
	stamp *stampTransport
	waits *waitLedger // upstream waits of each load request (in-process targets)
	// upstream calls of an external target that carried no request id
	noID  atomic.Int64
	meter *distortionMeter

	// fake upstream
	fake           *faults.Server
	upstreamURL    string
	upstreamServer serverGroup
	upstreamPool   *http.Transport // nil in memory

	// target
	running      Running
	replicaOfURL map[string]int // query URL -> replica
	replicas     int            // how many the target runs (its query URLs)
	external     bool           // the target is not the built-in assistant in process
	inferred     bool           // its breaker is inferred from the answers
	inferState   contract.State
	inferSince   time.Time       // end of the last answer that showed inferState
	delay        *delayLine      // holds records until an external target's transitions are in
	loadPool     *http.Transport // nil when the target brings its transport
	watching     context.CancelFunc
	watchDone    chan struct{} // closed when Watch has returned
	watchErr     error         // the target failed during the run
	warnings     []string
	stopped      bool
	interrupted  bool

	// load
	t0             time.Time
	atk            *vegeta.Attacker
	results        <-chan *vegeta.Result
	cancelInFlight context.CancelFunc
	stats          liveStats
	progressDone   chan struct{}
	stoppedAt      time.Time // when an interrupt or a failure stopped the load
	elapsed        time.Duration
}

// prepare computes what the run needs before anything starts.
func (r *runner) prepare(sc *scenarios.Scenario) (*play, error) {
	p := &play{runner: r, sc: sc, k: r.scale, scaled: sc.Scaled(r.scale)}
	var err error
	if p.queries, err = LoadQueries(sc.Load.Queries); err != nil {
		return nil, err
	}
	if p.pacer, err = NewPhasePacer(rateSegments(p.scaled)); err != nil {
		return nil, err
	}
	if p.header, err = r.header(sc, p.k); err != nil {
		return nil, err
	}
	p.hist = newBreakerHistory(sc.Breaker.Enabled)
	p.waits = newWaitLedger()
	p.meter = newDistortionMeter(p.scaled, p.k, !r.inMemory)
	p.stamp = &stampTransport{hist: p.hist, waits: p.waits, meter: p.meter}
	return p, nil
}

// toScenario converts a real duration into scenario time.
func (p *play) toScenario(d time.Duration) time.Duration {
	return time.Duration(float64(d) * p.k)
}

// startUpstream starts the fake HuggingFace server: on a free loopback
// port, or in memory.
func (p *play) startUpstream() error {
	fake, err := faults.New(faultsConfig(p.scaled), faults.WithCallObserver(p.upstreamCall))
	if err != nil {
		return fmt.Errorf("fake upstream: %w", err)
	}
	p.fake = fake
	if p.inMemory {
		p.upstreamURL = "http://fake-upstream.invalid"
		p.stamp.next = fake.RoundTripper()
		return nil
	}
	l, err := p.listenUpstream()
	if err != nil {
		return err
	}
	p.upstreamURL = "http://" + l.Addr().String()
	p.upstreamServer.serve(l, fake.Serve)
	p.upstreamPool = newLoopbackTransport()
	p.stamp.next = p.upstreamPool
	return nil
}

// listenUpstream listens where the fake upstream was asked to, or on a
// free loopback port.
func (p *play) listenUpstream() (net.Listener, error) {
	if p.upstreamListen == "" {
		return listenLoopback()
	}
	if err := CheckLoopback("http://" + p.upstreamListen); err != nil {
		return nil, fmt.Errorf("upstream listen address: %w", err)
	}
	l, err := net.Listen("tcp", p.upstreamListen)
	if err != nil {
		return nil, fmt.Errorf("fake upstream: %w", err)
	}
	return l, nil
}

// startTarget starts what the run plays against, wired to the fake, and
// checks that load will only go to this machine.
func (p *play) startTarget(ctx context.Context) error {
	running, err := p.target.Start(ctx, Wiring{
		Scenario: p.scaled, TimeScale: p.k, UpstreamURL: p.upstreamURL,
		Upstream: p.stamp, Observe: p.transition, Log: p.log, Dir: p.outDir,
	})
	if err != nil {
		return err
	}
	p.running = running
	ep := running.Endpoints()
	if len(ep.QueryURLs) == 0 {
		return errors.New("target: no query URL")
	}
	p.replicas = len(ep.QueryURLs)
	p.replicaOfURL = make(map[string]int, len(ep.QueryURLs))
	for i, u := range ep.QueryURLs {
		p.replicaOfURL[u] = i
	}
	if ep.Transport == nil {
		for _, u := range ep.QueryURLs {
			if err := CheckLoopback(u); err != nil {
				return err
			}
		}
	}
	return p.describeTarget(ep)
}

// describeTarget notes in the header what an external target reported:
// its breakers, its settings, and how its transitions are seen.
func (p *play) describeTarget(ep Endpoints) error {
	p.external, p.inferred = ep.Info != nil, ep.Inferred
	if p.external {
		p.delay = newDelayLine(ep.Resolution)
		p.meter.seeFakeSideOnly()
	}
	if ep.Breaker != nil {
		p.hist.enabled = ep.Breaker.Enabled
	}
	if p.rec == nil || (ep.Info == nil && ep.Breakers == nil && ep.Breaker == nil) {
		return nil
	}
	var yaml []byte
	if ep.Breaker != nil {
		sc := *p.sc
		sc.Breaker = *ep.Breaker
		var err error
		if yaml, err = scenarios.Marshal(&sc); err != nil {
			return fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
	}
	return p.rec.Amend(func(h *recording.Header) {
		if ep.Breakers != nil {
			h.Breakers = ep.Breakers
		}
		if yaml != nil {
			h.ScenarioYAML = string(yaml)
		}
		if ep.Info != nil {
			info := *ep.Info
			info.Observed = recording.ObservedHealth
			if ep.Inferred {
				info.Observed = recording.ObservedAnswers
			}
			info.Resolution = p.toScenario(ep.Resolution)
			h.Target = &info
		}
	})
}

// transition records a breaker transition reported by the target.
func (p *play) transition(tr Transition) {
	p.hist.add(tr)
	p.meter.transition(tr)
	if p.rec != nil {
		p.rec.Transition(recording.Transition{T: p.toScenario(tr.At.Sub(p.t0)), Resolution: p.toScenario(tr.Resolution),
			Breaker: tr.Breaker, Replica: p.replicaField(tr.Replica), From: tr.From, To: tr.To})
	}
}

// replicaField is the recorded replica of replica i (from 0): i+1 when the
// target runs several, else 0 so a one-replica recording leaves it out.
func (p *play) replicaField(i int) int {
	if p.replicas > 1 {
		return i + 1
	}
	return 0
}

// upstreamCall records a call the fake served, with the breaker state at
// the moment it was sent.
func (p *play) upstreamCall(c faults.Call) {
	p.meter.fakeSide(&c)
	if !p.external {
		s, known := p.stamp.sentOf(&c)
		replica := 0
		if known {
			replica = p.replicaField(s.replica)
		}
		p.writeCall(&c, s.state, replica)
		return
	}
	// An external service forwards the load request's id, if at all, unchanged.
	if c.RequestID == "" {
		p.noID.Add(1)
	}
	p.waits.add(c.RequestID, c.Duration)
	p.delay.push(c.At, func() { p.writeCall(&c, p.hist.stateAt(0, c.At), 0) }) // one external service: replica 0
}

// writeCall records call c with the breaker state when it was sent and
// its recorded replica (see replicaField).
func (p *play) writeCall(c *faults.Call, state contract.State, replica int) {
	if p.rec == nil {
		return
	}
	p.rec.UpstreamCall(recording.UpstreamCall{
		Seq: c.Seq, T: p.toScenario(c.At.Sub(p.t0)), Phase: c.Phase, Route: c.Route, Fault: c.Fault,
		Status: c.Status, Duration: p.toScenario(c.Duration), Bytes: c.Bytes, Breaker: state, Replica: replica,
	})
}

// stop shuts down, in order, the load's connections, the target, the
// upstream's connections and the fake. The clients' connection pools are
// closed before the servers shut down: http.Transport sometimes dials a
// connection it then never uses, and http.Server.Shutdown waits 5 s for
// such a silent connection before it counts it as idle.
func (p *play) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	if p.loadPool != nil {
		p.loadPool.CloseIdleConnections()
	}
	if p.running != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		if err := p.running.Stop(ctx); err != nil {
			p.warnings = append(p.warnings, err.Error())
		}
		cancel()
	}
	if p.upstreamPool != nil {
		p.upstreamPool.CloseIdleConnections()
	}
	p.upstreamServer.stop()
	if err := p.upstreamServer.err(); err != nil {
		p.warnings = append(p.warnings, err.Error())
	}
	if p.fake != nil {
		p.fake.Close()
	}
}

// stopGrace bounds, in real time, how long a target may take to stop.
const stopGrace = 5 * time.Second

// cleanup runs after every run, finished or failed: it stops whatever is
// still running and closes a recording left open by a failure, so that
// the folder stays readable.
func (p *play) cleanup() {
	if p.cancelInFlight != nil {
		p.cancelInFlight()
	}
	p.meter.stop()
	p.stop()
	if !p.recClosed {
		p.abortRecording()
	}
}
