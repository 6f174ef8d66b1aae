package faults

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"brownout/contract"
	"brownout/internal/timeouts"
)

// ShutdownTimeout bounds the graceful part of [Server.Serve]'s shutdown;
// requests still running after it are cut off.
const ShutdownTimeout = 5 * time.Second

// Call is the record of one completed call, delivered to the
// [WithCallObserver] callback and summarised at GET /_brownout/stats.
type Call struct {
	// Seq numbers calls from 1 in order of arrival.
	Seq uint64
	// At is the arrival time.
	At time.Time
	// Phase is the name of the phase active at arrival.
	Phase string
	// Route names the endpoint: chat, completions, compat, generate,
	// generate_stream, health, info, models or not_found.
	Route string
	// Fault is the kind of the fault that fired, "" for none.
	Fault string
	// Status is the HTTP status sent, 0 when none was (reset, empty, hang,
	// or the client left first).
	Status int
	// Duration is the time from arrival until the server was done.
	Duration time.Duration
	// Delay is how long the server meant to hold the call on purpose: its
	// sampled latency and token pacing, a latency fault's extra delay, a
	// slow body's pacing, a hang's maximum. Duration − Delay − Queued is
	// the server's own overhead, and a call that ended early (the client
	// gave up) has a Duration shorter than Delay; a harness compares the
	// two to tell timeouts the scenario asked for from timeouts caused by a
	// slow machine.
	Delay time.Duration
	// Queued is how long the call waited for a capacity slot; for a call
	// that never got one (queue full, or the client left first), the time
	// it spent in line.
	Queued time.Duration
	// GotSlot is false for a call the capacity limit turned away (queue
	// full) or that left the queue without being served; true otherwise.
	GotSlot bool
	// Bytes counts the response body bytes sent.
	Bytes int64
	// RequestID is the caller's X-Request-Id header, "" when absent. It
	// lets a harness join the server's log with what the caller knew when
	// it sent the call (such as its breaker state).
	RequestID string
}

// Timeouts are the limits [Server.Serve] puts on slow or silent clients:
// reading a request's headers, reading the whole request, each write of
// the answer (a stall, not the whole answer, so streams and slow_body
// faults last as long as they need) and a keep-alive connection's idle
// wait.
type Timeouts = timeouts.Timeouts

// DefaultTimeouts returns the limits Serve uses unless [WithTimeouts] says
// otherwise: 15 s to read a request of at most [MaxBodyBytes], 30 s for a
// client to take each piece of an answer, 2 minutes of keep-alive idle.
func DefaultTimeouts() Timeouts {
	return Timeouts{Header: 10 * time.Second, Read: 15 * time.Second, Write: 30 * time.Second, Idle: 2 * time.Minute}
}

// WithTimeouts replaces the limits [Server.Serve] puts on slow clients.
func WithTimeouts(t Timeouts) Option {
	return func(s *Server) { s.timeouts = t }
}

// An Option configures a [Server] in [New].
type Option func(*Server)

// WithCallObserver makes the server call fn once per completed call, from
// the request's goroutine, so a recorder sees every call as it ends. fn
// must be cheap and safe for concurrent use.
func WithCallObserver(fn func(Call)) Option {
	return func(s *Server) { s.observe = fn }
}

// Server is the fake inference server: an [http.Handler] that can also run
// on a listener ([Server.Serve]) or in memory ([Server.RoundTripper]).
type Server struct {
	model       string
	quotedModel []byte
	seed        int64
	maxTokens   int
	phases      []*phaseState
	t0          atomic.Pointer[time.Time]

	// decideMu orders call indexes and fault draws, so a seed maps each
	// call index to the same decision.
	decideMu sync.Mutex
	decide   *rand.Rand

	timing   *lockedRand
	seq      atomic.Uint64
	observe  func(Call)
	stats    *stats
	timeouts Timeouts

	stopCtx    context.Context // cancelled by Close: every wait ends
	stop       context.CancelFunc
	releaseCtx context.Context // cancelled on shutdown: hangs end
	release    context.CancelFunc
	mem        sync.WaitGroup // in-memory round trips in flight

	infoBody, modelsBody []byte

	testHookHang func() // called when a hang starts holding a request
}

// phaseState is a Phase ready to serve.
type phaseState struct {
	name           string
	start, end     time.Duration // offsets from t0 at which the phase starts and ends
	ttft, perToken Dist
	tokens         int
	faults         []phaseFault
	limit          *limiter // nil: unlimited
	calls          int      // guarded by Server.decideMu
}

// phaseFault is a built fault with its selectors.
type phaseFault struct {
	kind                string
	rate                float64
	rateTo              float64 // with ramp, the rate at the phase's end
	ramp                bool
	first, every, after int
	f                   fault
}

// rateAt is the fault's probability at frac, the share of its phase
// elapsed (clamped to [0,1]).
func (pf *phaseFault) rateAt(frac float64) float64 {
	if !pf.ramp {
		return pf.rate
	}
	frac = max(0, min(1, frac))
	return pf.rate + (pf.rateTo-pf.rate)*frac
}

// progress is the share of the phase elapsed at el (offset from t0): 0 at
// its start, 1 at its end and after; 1 for a phase without duration.
func (p *phaseState) progress(el time.Duration) float64 {
	if p.end <= p.start {
		return 1
	}
	return float64(el-p.start) / float64(p.end-p.start)
}

// matches reports whether the selectors accept call index i.
func (pf *phaseFault) matches(i int) bool {
	return (pf.first == 0 || i < pf.first) &&
		(pf.every == 0 || i%pf.every == pf.every-1) &&
		(pf.after == 0 || i >= pf.after)
}

// New validates cfg and builds a server. The timeline starts now, or at
// the time given to [Server.StartTimeline]. Call Close when done.
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("faults: invalid config: %w", err)
	}
	s := &Server{
		model:     cmp.Or(cfg.Model, DefaultModel),
		seed:      cfg.Seed,
		maxTokens: cmp.Or(cfg.MaxTokens, DefaultMaxTokens),
		decide:    rand.New(rand.NewPCG(uint64(cfg.Seed), 0xfa017)),
		timing:    newRand(cfg.Seed, 1),
		timeouts:  DefaultTimeouts(),
	}
	s.quotedModel = appendQuoted(nil, s.model)
	for _, o := range opts {
		o(s)
	}
	phases := cfg.Phases
	if len(phases) == 0 {
		phases = []Phase{{Name: "default"}}
	}
	env := buildEnv{model: s.model, rnd: s.timing}
	var end time.Duration
	for i, p := range phases {
		start := end
		end += p.Duration
		ps := &phaseState{name: phaseName(p, i), start: start, end: end, tokens: min(cmp.Or(p.Tokens, DefaultTokens), s.maxTokens)}
		// Validate has checked every spec, so these cannot fail.
		ps.ttft, _ = newDist(p.TTFT)
		ps.perToken, _ = newDist(p.PerToken)
		if p.Concurrency > 0 {
			ps.limit = newLimiter(p.Concurrency, p.Queue)
		}
		for _, fs := range p.Faults {
			f, err := buildFault(fs, env)
			if err != nil {
				return nil, fmt.Errorf("faults: phase %q: %w", ps.name, err)
			}
			pf := phaseFault{kind: fs.Kind, rate: 1, first: fs.First, every: fs.Every, after: fs.After, f: f}
			if fs.Rate != nil {
				pf.rate = *fs.Rate
			}
			if fs.RateTo != nil {
				pf.ramp, pf.rateTo = true, *fs.RateTo
				if fs.Rate == nil {
					pf.rate = 0
				}
			}
			ps.faults = append(ps.faults, pf)
		}
		s.phases = append(s.phases, ps)
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	s.releaseCtx, s.release = context.WithCancel(s.stopCtx)
	s.stats = newStats()
	s.infoBody = renderInfo(s)
	s.modelsBody = renderModels(s)
	s.StartTimeline(time.Now())
	return s, nil
}

// StartTimeline restarts the phase clock at t0: phase i is active from t0
// plus the durations of the phases before it, and the last phase stays
// active after its end. Call indexes are not reset.
func (s *Server) StartTimeline(t0 time.Time) { s.t0.Store(&t0) }

// PhaseAt names the phase active at t.
func (s *Server) PhaseAt(t time.Time) string { return s.phaseAt(t).name }

func (s *Server) phaseAt(t time.Time) *phaseState {
	el := t.Sub(*s.t0.Load())
	last := len(s.phases) - 1
	for _, p := range s.phases[:last] {
		if el < p.end {
			return p
		}
	}
	return s.phases[last]
}

// decideFault assigns the call arriving at at its index in the phase and
// returns the first fault that fires, drawing once per fault considered.
func (s *Server) decideFault(p *phaseState, at time.Time) *phaseFault {
	frac := p.progress(at.Sub(*s.t0.Load()))
	s.decideMu.Lock()
	defer s.decideMu.Unlock()
	i := p.calls
	p.calls++
	for k := range p.faults {
		pf := &p.faults[k]
		u := s.decide.Float64()
		if u < pf.rateAt(frac) && pf.matches(i) {
			return pf
		}
	}
	return nil
}

// Close releases hung and waiting requests, stops in-memory round trips
// and waits for them to end. It is safe to call more than once.
func (s *Server) Close() {
	s.stop()
	s.mem.Wait()
}

// Serve answers HTTP on l until ctx is done, then shuts down: hung
// requests are released at once, the others get up to [ShutdownTimeout]
// to finish. It returns nil after a clean shutdown. Call it at most once
// per Server: its shutdown releases hangs for good.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:     s,
		ErrorLog:    log.New(io.Discard, "", 0), // aborted connections are the point
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.timeouts.Apply(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("faults: serve %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	s.release()
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		s.stop()
		_ = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("faults: shutdown: %w", err)
	}
	return nil
}

// Routes.
const (
	routeChat           = "chat"
	routeCompletions    = "completions"
	routeCompat         = "compat"
	routeGenerate       = "generate"
	routeGenerateStream = "generate_stream"
	routeHealth         = "health"
	routeInfo           = "info"
	routeModels         = "models"
	routeNotFound       = "not_found"
)

// routeOf maps a path to its route and the method it takes.
func routeOf(path string) (route, method string) {
	switch path {
	case "/v1/chat/completions":
		return routeChat, http.MethodPost
	case "/v1/completions":
		return routeCompletions, http.MethodPost
	case "/", "/invocations":
		return routeCompat, http.MethodPost
	case "/generate":
		return routeGenerate, http.MethodPost
	case "/generate_stream":
		return routeGenerateStream, http.MethodPost
	case "/health", "/ping":
		return routeHealth, http.MethodGet
	case "/info":
		return routeInfo, http.MethodGet
	case "/v1/models":
		return routeModels, http.MethodGet
	case "/metrics":
		return "metrics", http.MethodGet
	case "/_brownout/stats":
		return "stats", http.MethodGet
	}
	if rest, ok := strings.CutPrefix(path, "/models/"); ok && rest != "" {
		return routeCompat, http.MethodPost
	}
	return routeNotFound, ""
}

// ServeHTTP answers one request; see the package documentation for routes
// and fault selection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, method := routeOf(r.URL.Path)
	switch route {
	case "metrics":
		s.stats.metrics.ServeHTTP(w, r)
		return
	case "stats":
		s.serveStats(w, r)
		return
	}
	ex := getExchange()
	defer putExchange(ex)
	ex.s, ex.w, ex.r, ex.route = s, w, r, route
	ex.arrival = time.Now()
	seq := s.seq.Add(1)
	ex.phase = s.phaseAt(ex.arrival)
	defer s.record(ex, seq)

	switch {
	case route == routeNotFound:
		ex.respond(http.StatusNotFound, nil, nil)
	case r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead):
		w.Header()["Allow"] = []string{method}
		ex.respond(http.StatusMethodNotAllowed, nil, nil)
	case route == routeHealth:
		ex.respond(http.StatusOK, nil, nil)
	case route == routeInfo:
		ex.respond(http.StatusOK, ctJSON, s.infoBody)
	case route == routeModels:
		ex.respond(http.StatusOK, ctJSON, s.modelsBody)
	default:
		s.serveInference(ex)
	}
}

// record delivers the call to the stats and the observer.
func (s *Server) record(ex *exchange, seq uint64) {
	c := Call{
		Seq: seq, At: ex.arrival, Phase: ex.phase.name, Route: ex.route, Fault: ex.fault,
		Status: ex.status, Duration: time.Since(ex.arrival), Bytes: ex.bytes,
		RequestID: ex.r.Header.Get(contract.HeaderRequestID),
		Delay:     ex.delay, Queued: ex.queued, GotSlot: !ex.noSlot,
	}
	s.stats.add(&c)
	if s.observe != nil {
		s.observe(c)
	}
}

var exchangePool = sync.Pool{New: func() any { return &exchange{buf: make([]byte, 0, 4096)} }}

func getExchange() *exchange {
	ex := exchangePool.Get().(*exchange)
	ex.cutAfter, ex.errAfter = -1, -1
	return ex
}

func putExchange(ex *exchange) {
	if cap(ex.buf) > 64<<10 {
		ex.buf = nil
	}
	*ex = exchange{buf: ex.buf[:0], gen: generation{text: ex.gen.text[:0]}}
	exchangePool.Put(ex)
}
