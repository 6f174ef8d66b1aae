// Package sim plays a scenario end to end: it starts the fake HuggingFace
// server and the assistant on loopback (or wires them in memory for
// virtual-time tests), drives load with vegeta, and records every request,
// breaker transition and upstream call into a run folder.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"brownout/contract"
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

// InMemory plays against the built-in assistant and wires load →
// assistant → fake through in-memory transports instead of loopback
// sockets, so a run can execute inside a testing/synctest bubble in virtual
// time. It cannot be combined with WithTarget.
func InMemory() Option { return func(r *runner) { r.inMemory = true } }

// withAssistantWrapper wraps the in-memory assistant's handler; tests use
// it to give requests local work that takes (virtual) time.
func withAssistantWrapper(wrap func(http.Handler) http.Handler) Option {
	return func(r *runner) { r.wrapAssistant = wrap }
}

// WithUpstreamListen makes the fake upstream listen on addr (a loopback
// host:port) instead of a free port, for an already-running target that
// was configured to call it there.
func WithUpstreamListen(addr string) Option { return func(r *runner) { r.upstreamListen = addr } }

// WithTarget sets what the run plays against; the default is Builtin().
func WithTarget(t Target) Option { return func(r *runner) { r.target = t } }

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
	// Distortion says whether this machine kept up with the time scale;
	// when Distortion.Distorted, the recording shows the machine's limits
	// rather than the scenario, and callers must say so loudly.
	Distortion *recording.Distortion
}

// Progress is a snapshot of a run in progress, in scenario time.
type Progress struct {
	Phase       string
	Elapsed     time.Duration
	Total       time.Duration
	Rate        float64 // requests per scenario second over the last interval
	Breaker     contract.State
	Requests    int64
	Fallback    float64 // share of fallback answers over the last interval
	Unavailable float64 // share of 503s over the last interval
	Done        bool
}

type runner struct {
	outDir         string
	scale          float64
	inMemory       bool
	target         Target
	upstreamListen string
	progressEvery  time.Duration
	progress       func(Progress)
	drain          time.Duration
	log            *slog.Logger
	version        string
	tracker        *progressTracker
	wrapAssistant  func(http.Handler) http.Handler
	recOpts        []recording.CreateOption
	progressWG     sync.WaitGroup
	redisURL       string
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
	if r.inMemory && r.target != nil {
		return nil, errors.New("sim: InMemory plays the built-in assistant and cannot be combined with WithTarget")
	}
	if r.target == nil && !r.inMemory && sc.Target != nil {
		r.target = CommandFrom(sc.Target)
	}
	if r.target == nil {
		r.target = builtin{inMemory: r.inMemory, wrap: r.wrapAssistant}
	}
	if r.redisURL != "" {
		// Recorded in the header's scenario, like every other setting.
		c := *sc
		c.Breaker.RedisURL = r.redisURL
		sc = &c
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

// run plays sc in steps, each a method of play: prepare, open the
// recording, start the fake upstream, start the target, attack, collect
// the results (draining on interrupt), then stop everything and close the
// recording. Whatever fails, cleanup stops what was started and leaves
// the recording readable.
func (r *runner) run(ctx context.Context, sc *scenarios.Scenario) (*Result, error) {
	p, err := r.prepare(sc)
	if err != nil {
		return nil, err
	}
	defer p.cleanup()
	if err := p.openRecording(); err != nil {
		return nil, err
	}
	if err := p.startUpstream(); err != nil {
		return nil, err
	}
	if err := p.startTarget(ctx); err != nil {
		return nil, err
	}
	p.attack()
	p.collect(ctx)
	return p.finish()
}
