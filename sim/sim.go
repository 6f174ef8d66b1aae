// Package sim plays a scenario end to end: it starts the fake HuggingFace
// server and the assistant on loopback (or wires them in memory for
// virtual-time tests), drives load with vegeta, and records every request,
// breaker transition and upstream call into a run folder.
package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/assistant"
	"brownout/faults"
	"brownout/recording"
	"brownout/scenarios"
)

// DefaultDrainTimeout bounds, in real time, how long an interrupted run
// waits for in-flight requests before it cancels them.
const DefaultDrainTimeout = 2 * time.Second

// Option configures a Run.
type Option func(*runner)

// WithOutDir sets the run folder; Run creates it. Without it Run records
// nothing to disk (useful for benchmarks), and Result.Dir is empty.
func WithOutDir(dir string) Option { return func(r *runner) { r.outDir = dir } }

// WithTimeScale compresses time by k: every scenario duration is divided by
// k and every rate multiplied by k, and every recorded time is converted
// back, so reports read the same at any k. Zero keeps the scenario's own
// time_scale.
func WithTimeScale(k float64) Option { return func(r *runner) { r.scale = k } }

// InMemory wires load → assistant → fake through in-memory transports
// instead of loopback sockets, so a run can execute inside a
// testing/synctest bubble in virtual time.
func InMemory() Option { return func(r *runner) { r.inMemory = true } }

// withAssistantWrapper wraps the in-memory assistant's handler; tests use
// it to give requests local work that takes (virtual) time.
func withAssistantWrapper(wrap func(http.Handler) http.Handler) Option {
	return func(r *runner) { r.wrapAssistant = wrap }
}

// WithProgress calls fn about every interval of real time while the run
// goes on, and once at the end.
func WithProgress(every time.Duration, fn func(Progress)) Option {
	return func(r *runner) { r.progressEvery, r.progress = every, fn }
}

// WithDrainTimeout sets how long an interrupted run waits for in-flight
// requests (real time) before cancelling them.
func WithDrainTimeout(d time.Duration) Option { return func(r *runner) { r.drain = d } }

// WithLogger sets where the servers log; by default they are silent.
func WithLogger(l *slog.Logger) Option { return func(r *runner) { r.log = l } }

// WithVersion records the brownout version in the run header.
func WithVersion(v string) Option { return func(r *runner) { r.version = v } }

// Result is what a run produced.
type Result struct {
	Dir         string
	Header      recording.Header
	Interrupted bool
	Requests    int64
	// Warnings are problems that did not invalidate the recording, such as
	// a server that had to cancel requests to shut down.
	Warnings []string
}

// Progress is a snapshot of a run in progress, in scenario time.
type Progress struct {
	Phase       string
	Elapsed     time.Duration
	Total       time.Duration
	Rate        float64 // requests per scenario second over the last interval
	Breaker     string
	Requests    int64
	Fallback    float64 // share of fallback answers over the last interval
	Unavailable float64 // share of 503s over the last interval
	Done        bool
}

type runner struct {
	outDir        string
	scale         float64
	inMemory      bool
	progressEvery time.Duration
	progress      func(Progress)
	drain         time.Duration
	log           *slog.Logger
	version       string
	tracker       *progressTracker
	wrapAssistant func(http.Handler) http.Handler
	progressWG    sync.WaitGroup
}

// Run plays sc and records it. It returns when the scenario has played out
// or ctx is cancelled; in the latter case the recording is still complete
// and valid, marked interrupted, and Result.Interrupted is set.
func Run(ctx context.Context, sc *scenarios.Scenario, opts ...Option) (*Result, error) {
	r := &runner{drain: DefaultDrainTimeout}
	for _, o := range opts {
		o(r)
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.scale == 0 {
		r.scale = sc.TimeScale
	}
	if r.scale == 0 {
		r.scale = 1
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	// Draw this run's timeline (phase lengths given as distributions,
	// start jitter) from the seed, before anything is scaled or recorded.
	sc = sc.Resolve()
	if err := CheckTimeScale(sc, r.scale); err != nil {
		return nil, err
	}
	return r.run(ctx, sc)
}

func (r *runner) run(ctx context.Context, sc *scenarios.Scenario) (*Result, error) {
	k := r.scale
	real := sc.Scaled(k)
	toScenario := func(d time.Duration) time.Duration { return time.Duration(float64(d) * k) }

	queries, err := LoadQueries(sc.Load.Queries)
	if err != nil {
		return nil, err
	}
	pacer, err := NewPhasePacer(rateSegments(real))
	if err != nil {
		return nil, err
	}

	header, err := r.header(sc, k)
	if err != nil {
		return nil, err
	}
	var rec *recording.Writer
	var vegetaOut *bufio.Writer
	var vegetaFile *os.File
	if r.outDir != "" {
		if rec, err = recording.Create(r.outDir, header); err != nil {
			return nil, err
		}
		if vegetaFile, err = os.Create(filepath.Join(r.outDir, recording.VegetaFile)); err != nil {
			return nil, abort(rec, nil, fmt.Errorf("recording: %w", err))
		}
		vegetaOut = bufio.NewWriterSize(vegetaFile, 256<<10)
	}

	// The breaker's history, fed by the assistant's observer; the request
	// and upstream records look up the state at their own times in it.
	var t0 time.Time
	hist := newBreakerHistory(sc.Breaker.Enabled)
	observe := func(tr assistant.Transition) {
		hist.add(tr)
		if rec != nil {
			rec.Transition(recording.Transition{T: toScenario(tr.At.Sub(t0)), Breaker: tr.Breaker, From: tr.From, To: tr.To})
		}
	}
	waits := newWaitLedger()
	stamp := &stampTransport{hist: hist, waits: waits}
	onCall := func(c faults.Call) {
		state := stamp.stateOf(&c)
		if rec == nil {
			return
		}
		rec.UpstreamCall(recording.UpstreamCall{
			Seq: c.Seq, T: toScenario(c.At.Sub(t0)), Phase: c.Phase, Route: c.Route, Fault: c.Fault,
			Status: c.Status, Duration: toScenario(c.Duration), Bytes: c.Bytes, Breaker: state,
		})
	}

	fake, err := faults.New(faultsConfig(real), faults.WithCallObserver(onCall))
	if err != nil {
		return nil, abort(rec, vegetaFile, fmt.Errorf("fake upstream: %w", err))
	}
	defer fake.Close()

	servers := &serverGroup{}
	defer servers.stop()
	// The clients' connection pools are closed before the servers shut
	// down: http.Transport sometimes dials a connection it then never uses,
	// and http.Server.Shutdown waits 5 s for such a silent connection
	// before it counts it as idle.
	var clientPools []*http.Transport
	closePools := func() {
		for _, p := range clientPools {
			p.CloseIdleConnections()
		}
	}
	defer closePools()
	var upstreamURL string
	if r.inMemory {
		upstreamURL = "http://fake-upstream.invalid"
		stamp.next = fake.RoundTripper()
	} else {
		l, err := listenLoopback()
		if err != nil {
			return nil, abort(rec, vegetaFile, err)
		}
		upstreamURL = "http://" + l.Addr().String()
		servers.serve(l, fake.Serve)
		upstreamTransport := newLoopbackTransport()
		clientPools = append(clientPools, upstreamTransport)
		stamp.next = upstreamTransport
	}
	svc, err := assistant.New(assistantConfig(real, upstreamURL),
		assistant.WithObserver(observe), assistant.WithLogger(r.log), assistant.WithTransport(stamp))
	if err != nil {
		return nil, abort(rec, vegetaFile, fmt.Errorf("assistant: %w", err))
	}

	var target string
	var transport http.RoundTripper
	if r.inMemory {
		target = "http://assistant.invalid" + assistant.PathQuery
		var h http.Handler = svc
		if r.wrapAssistant != nil {
			h = r.wrapAssistant(svc)
		}
		transport = handlerTransport{h: h}
	} else {
		l, err := listenLoopback()
		if err != nil {
			return nil, abort(rec, vegetaFile, err)
		}
		target = "http://" + l.Addr().String() + assistant.PathQuery
		if err := CheckLoopback(target); err != nil {
			return nil, abort(rec, vegetaFile, err)
		}
		servers.serve(l, svc.Serve)
		loadTransport := newLoopbackTransport()
		clientPools = append(clientPools, loadTransport)
		transport = loadTransport
	}
	// Requests carry drainCtx, so an interrupted run can cut in-flight
	// requests short once the drain time is up.
	drainCtx, cancelInFlight := context.WithCancel(context.Background())
	defer cancelInFlight()
	client := &http.Client{Transport: contextTransport{ctx: drainCtx, next: echoIDTransport{next: transport}}}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Timeout(real.Load.Timeout.D()),
		vegeta.MaxWorkers(uint64(max(1, real.Load.MaxWorkers))),
		vegeta.Workers(uint64(min(10, max(1, real.Load.MaxWorkers)))),
		vegeta.Redirects(vegeta.NoFollow),
	)
	src := newQuestionSource(queries, float64(sc.Load.RepeatRatio), sc.Seed)

	t0 = time.Now()
	fake.StartTimeline(t0)
	results := atk.Attack(newTargeter(target, src, &requestIDs{}), pacer, pacer.Duration()+time.Millisecond, sc.Name)

	stats := &liveStats{}
	progressDone := r.startProgress(sc, &header, k, t0, hist, stats)

	var vegetaEnc vegeta.Encoder
	if vegetaOut != nil {
		vegetaEnc = vegeta.NewEncoder(vegetaOut)
	}
	interrupted := false
	var stoppedAt time.Time // when an interrupt stopped the load
	var drainTimer <-chan time.Time
	var recErr error
loop:
	for {
		select {
		case res, ok := <-results:
			if !ok {
				break loop
			}
			out, reason, why := classify(int(res.Code), res.Body, res.Error)
			stats.add(out)
			latency := scenarioLatency(res.Latency, simulatedWait(res, waits), k)
			if rec != nil {
				start := toScenario(res.Timestamp.Sub(t0))
				if err := rec.Request(recording.Request{
					Seq: res.Seq + 1, T: start, Latency: latency, RealLatency: realLatency(res.Latency, k), Status: int(res.Code),
					Outcome: out, Reason: reason, Phase: header.PhaseAt(start), Breaker: hist.stateAt(res.Timestamp.Add(res.Latency)), Error: why,
				}); err != nil && recErr == nil {
					recErr = err
				}
				res.Body, res.Headers = nil, nil
				res.Timestamp = t0.Add(start)
				res.Latency = latency
				if err := vegetaEnc.Encode(res); err != nil && recErr == nil {
					recErr = err
				}
			}
		case <-ctx.Done():
			if !interrupted {
				interrupted = true
				stoppedAt = time.Now()
				atk.Stop()
				drainTimer = time.After(r.drain)
			}
			ctx = context.Background() // stop selecting on it
		case <-drainTimer:
			cancelInFlight()
		}
	}
	elapsed := time.Since(t0)
	close(progressDone)
	r.final(elapsed)

	closePools()
	servers.stop()
	fake.Close()
	// The recording covers the scenario up to its end, or up to the stop
	// of an interrupted run (the drain after it sends no new requests).
	covered := min(elapsed, pacer.Duration())
	if interrupted {
		covered = min(covered, stoppedAt.Sub(t0))
	}
	covered = toScenario(covered)
	var closeErr error
	if vegetaOut != nil {
		closeErr = errors.Join(vegetaOut.Flush(), vegetaFile.Close())
	}
	if rec != nil {
		closeErr = errors.Join(closeErr, rec.Close(covered, time.Now(), interrupted))
	}
	if err := errors.Join(recErr, closeErr); err != nil {
		return nil, err
	}
	out := &Result{Dir: r.outDir, Interrupted: interrupted, Requests: stats.total.Load()}
	// A server that was slow to shut down does not spoil a complete
	// recording, but the caller should hear about it.
	if err := servers.err(); err != nil {
		out.Warnings = append(out.Warnings, err.Error())
	}
	if r.outDir != "" {
		h, err := recording.ReadHeader(r.outDir)
		if err != nil {
			return nil, err
		}
		out.Header = *h
	}
	return out, nil
}

// abort closes a half-started recording and returns err.
func abort(rec *recording.Writer, f *os.File, err error) error {
	if f != nil {
		f.Close()
	}
	if rec != nil {
		rec.Close(0, time.Now(), false)
	}
	return err
}

func (r *runner) header(sc *scenarios.Scenario, k float64) (recording.Header, error) {
	yaml, err := scenarios.Marshal(sc)
	if err != nil {
		return recording.Header{}, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	var spans []recording.PhaseSpan
	var at time.Duration
	for _, p := range sc.Phases {
		spans = append(spans, recording.PhaseSpan{Name: p.Name, Start: at, End: at + p.Duration.D()})
		at += p.Duration.D()
	}
	versions := map[string]string{"go": runtime.Version(), "brownout": r.version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/sony/gobreaker/v2":
				versions["gobreaker"] = d.Version
			case "github.com/tsenart/vegeta/v12":
				versions["vegeta"] = d.Version
			}
		}
	}
	if versions["brownout"] == "" {
		versions["brownout"] = "dev"
	}
	return recording.Header{
		Scenario:     sc.Name,
		Description:  sc.Description,
		ScenarioYAML: string(yaml),
		Seed:         sc.Seed,
		TimeScale:    k,
		StartedAt:    time.Now().UTC(),
		Phases:       spans,
		Breakers:     breakerNames(sc),
		Versions:     versions,
	}, nil
}

// breakerNames are the breakers the assistant will run for sc.
func breakerNames(sc *scenarios.Scenario) []string {
	if !sc.Breaker.Enabled {
		return nil
	}
	name := assistant.DefaultConfig().Breaker.Name
	if sc.Breaker.Scope == assistant.ScopePerEndpoint {
		return []string{name + "." + assistant.EndpointChat, name + "." + assistant.EndpointText}
	}
	return []string{name}
}

// contextTransport makes every request also end when ctx ends.
type contextTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t contextTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, stop: stop, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends a contextTransport request's context when its body
// is closed.
type cancelOnClose struct {
	io.ReadCloser
	stop   func() bool
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.stop()
	c.cancel()
	return err
}

// newLoopbackTransport is a connection pool sized for thousands of
// requests per second to one loopback host, without proxies.
func newLoopbackTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
}

func listenLoopback() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return l, nil
}

// serverGroup runs servers until stop, and collects their errors.
type serverGroup struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
	once   sync.Once
}

func (g *serverGroup) serve(l net.Listener, serve func(context.Context, net.Listener) error) {
	if g.ctx == nil {
		g.ctx, g.cancel = context.WithCancel(context.Background())
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := serve(g.ctx, l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
	}()
}

func (g *serverGroup) stop() {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
		}
		g.wg.Wait()
	})
}

func (g *serverGroup) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}
