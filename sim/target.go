package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"brownout/assistant"
	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// Target is what a run plays against: a service that speaks the seed's
// HTTP contract. Start is called once per run, and may be called by
// several runs at once (a sweep's cells), so a Target describes how to
// start a service rather than holding one.
type Target interface {
	// Start brings a service up wired to the fake upstream described by w,
	// and returns once it is ready for load.
	Start(ctx context.Context, w Wiring) (Running, error)
}

// Running is a started target.
type Running interface {
	// Endpoints says where load goes and how to reach it.
	Endpoints() Endpoints
	// Watch watches the service from the start of the load until ctx ends,
	// reporting breaker transitions that can only be seen from outside
	// to observe. It returns early with an error if the service fails
	// (a launched process that dies); otherwise it returns nil when ctx
	// ends.
	Watch(ctx context.Context, observe func(Transition)) error
	// Stop shuts the service down within ctx's deadline. Its error does
	// not spoil a recording; the run reports it as a warning.
	Stop(ctx context.Context) error
}

// Wiring is what a run gives a target to start with.
type Wiring struct {
	// Scenario is the scenario with every duration already divided by
	// the time scale (real time).
	Scenario *scenarios.Scenario
	// TimeScale is the compression factor that was applied.
	TimeScale float64
	// UpstreamURL is the fake HuggingFace server's base URL.
	UpstreamURL string
	// Upstream reaches the fake from inside this process: it tags each
	// call so its breaker state is known at the moment it was sent. Only
	// in-process targets can use it; others call UpstreamURL.
	Upstream http.RoundTripper
	// Observe records a breaker transition. In-process targets call it
	// from the breaker's own state change, so the state is exact.
	Observe func(Transition)
	// Log is where the service logs.
	Log *slog.Logger
	// Dir is the run folder ("" when the run records nothing); a launched
	// target keeps its output there.
	Dir string
}

// Endpoints says where a running target takes load.
type Endpoints struct {
	// QueryURLs are the URLs of the query endpoint; load is spread over
	// them in turn (several for replicas).
	QueryURLs []string
	// Transport reaches QueryURLs; nil means over loopback sockets, in
	// which case every URL must be a loopback one (CheckLoopback).
	Transport http.RoundTripper
	// Breakers names the target's breakers as it reports them; nil means
	// the ones the scenario describes.
	Breakers []string
	// Breaker holds the settings an already-running service reports, which
	// the recording shows instead of the scenario's; nil keeps those.
	Breaker *scenarios.Breaker
	// Info describes an external target for the recording; nil for the
	// built-in assistant.
	Info *recording.TargetInfo
	// Resolution is the real interval within which Watch sees a
	// transition (the health polling interval); zero means exact.
	Resolution time.Duration
	// Inferred says the target cannot report its breaker: the run infers
	// open and closed from the answers.
	Inferred bool
}

// Transition is a breaker's change of state as a target reports it.
type Transition struct {
	Breaker string
	// Replica is the index in Endpoints.QueryURLs of the replica whose
	// breaker changed; 0 for a single service.
	Replica  int
	From, To contract.State
	// At is when the change happened, or, for a change seen from
	// outside, the latest time it can have happened.
	At time.Time
	// Resolution is zero for an exact transition; otherwise it happened
	// in (At-Resolution, At].
	Resolution time.Duration
}

// Builtin is the built-in assistant, served in this process on a loopback
// port: the default target. Its breaker transitions are exact.
func Builtin() Target { return builtin{} }

// builtin starts the built-in assistant, on loopback or, for virtual-time
// runs, behind an in-memory transport.
type builtin struct {
	inMemory bool
	wrap     func(http.Handler) http.Handler // tests: local work in memory
}

// Start implements Target. It starts assistant.replicas services, each
// with its own breaker (or its own handle on the breaker shared through
// Redis with breaker.store redis) and its own port; load goes to them in
// turn. With several replicas, the breakers are reported as NAME/rK (K from
// 1), so each replica has its own line in the recording.
func (b builtin) Start(ctx context.Context, w Wiring) (Running, error) {
	shared, err := startShared(ctx, w.Scenario, b.inMemory)
	if err != nil {
		return nil, err
	}
	r := &builtinRunning{shared: shared}
	n := max(1, w.Scenario.Assistant.Replicas)
	inMemory := byHost{}
	for i := range n {
		observe := func(tr assistant.Transition) {
			w.Observe(Transition{Breaker: replicaBreaker(tr.Breaker, i, n), Replica: i, From: tr.From, To: tr.To, At: tr.At})
		}
		svc, err := assistant.New(assistantConfig(w.Scenario, w.UpstreamURL), append(shared.options(),
			assistant.WithObserver(observe), assistant.WithLogger(w.Log),
			assistant.WithTransport(replicaTransport{next: w.Upstream, replica: strconv.Itoa(i)}))...)
		if err != nil {
			r.Stop(ctx)
			return nil, fmt.Errorf("assistant replica %d: %w", i+1, err)
		}
		if b.inMemory {
			var h http.Handler = svc
			if b.wrap != nil {
				h = b.wrap(svc)
			}
			host := "assistant.invalid"
			if n > 1 {
				host = "assistant-" + strconv.Itoa(i+1) + ".invalid"
			}
			inMemory[host] = h
			r.endpoints.QueryURLs = append(r.endpoints.QueryURLs, "http://"+host+contract.PathQuery)
			r.endpoints.Transport = handlerTransport{h: inMemory}
			continue
		}
		l, err := listenLoopback()
		if err != nil {
			r.Stop(ctx)
			return nil, err
		}
		r.endpoints.QueryURLs = append(r.endpoints.QueryURLs, "http://"+l.Addr().String()+contract.PathQuery)
		r.servers.serve(l, svc.Serve)
	}
	return r, nil
}

// replicaBreaker is the name breaker of replica i (from 0) of n has in the
// recording.
func replicaBreaker(breaker string, i, n int) string {
	if n == 1 {
		return breaker
	}
	return breaker + "/r" + strconv.Itoa(i+1)
}

// byHost routes in-memory requests to the replica named by their host.
type byHost map[string]http.Handler

func (m byHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := m[r.Host]
	if !ok {
		http.Error(w, "no replica at "+r.Host, http.StatusBadGateway)
		return
	}
	h.ServeHTTP(w, r)
}

// builtinRunning is a started built-in assistant.
type builtinRunning struct {
	endpoints Endpoints
	servers   serverGroup
	shared    *sharedState // nil with a local store
}

func (r *builtinRunning) Endpoints() Endpoints { return r.endpoints }

// Watch waits: the assistant reports its transitions through
// Wiring.Observe as they happen.
func (r *builtinRunning) Watch(ctx context.Context, _ func(Transition)) error {
	<-ctx.Done()
	return nil
}

// Stop stops the servers, then the shared store; store failures during
// the run come back as a warning.
func (r *builtinRunning) Stop(context.Context) error {
	r.servers.stop()
	err := errors.Join(r.servers.err(), r.shared.failures())
	r.shared.close()
	return err
}
