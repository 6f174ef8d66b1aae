package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"brownout/contract"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"brownout/internal/jsonfast"
	"brownout/internal/timeouts"
)

// Routes served by a Service.
const (
	PathMetrics = "/metrics" // besides contract.PathQuery and contract.PathHealth
)

// Service is the assistant: an http.Handler that answers questions from the
// upstream model behind a circuit breaker, and falls back to the L1 cache,
// then to retrieved excerpts, then to a 503.
type Service struct {
	cfg       Config
	log       *slog.Logger
	observer  func(Transition)
	store     SharedStore
	onStore   func(breaker string, err error)
	rt        http.RoundTripper
	ownRT     *http.Transport // non-nil when the Service made its own transport
	shutdown  time.Duration
	timeouts  Timeouts
	client    *client
	endpoints []endpoint // in the order a query tries them
	breakers  []*breaker // every breaker, for status and metrics
	index     *index

	// Pieces of the hot path's JSON, escaped once (see jsonfast.go).
	systemJSON      []byte   // the system prompt
	leadJSON        []byte   // the first line of an excerpts answer
	sourceJSON      [][]byte // per chunk: {"id":…,"title":…,"excerpt":…,"score":
	contextJSON     [][]byte // per chunk: "<title>\n<text>\n\n" for the prompt
	excerptLineJSON [][]byte // per chunk: "<title>: <excerpt>" for an excerpts answer
	cache           *lruCache
	metrics         *metrics
	promh           http.Handler
}

type endpoint struct {
	name string // EndpointChat or EndpointText
	br   *breaker
}

// Option configures a Service.
type Option func(*Service)

// WithTransport sets the transport for upstream calls, for example an
// in-memory one in virtual-time tests or the fake server's RoundTripper.
// Without it the Service makes its own pooled *http.Transport.
func WithTransport(rt http.RoundTripper) Option {
	return func(s *Service) { s.rt = rt }
}

// WithObserver sets a function that receives every breaker transition.
// gobreaker calls it while holding the breaker's lock: it must return
// quickly and must not call back into the Service (no queries, no health
// checks), or it deadlocks.
func WithObserver(fn func(Transition)) Option {
	return func(s *Service) { s.observer = fn }
}

// WithSharedStore gives the store of a breaker with Store StoreRedis. Each
// Service (replica) needs its own store value, because a store's lock is
// re-entrant for the store (see SharedStore); several may share one Redis
// connection pool. Its lock must outlive CallTimeout: a half-open probe
// holds it across its upstream call.
func WithSharedStore(st SharedStore) Option {
	return func(s *Service) { s.store = st }
}

// WithStoreErrorObserver sets a function told about every failure of a
// shared breaker's store, with the breaker's name; the Service also logs
// them and counts them in assistant_breaker_store_errors_total.
func WithStoreErrorObserver(fn func(breaker string, err error)) Option {
	return func(s *Service) { s.onStore = fn }
}

// WithLogger sets the logger for transitions and server errors; the default
// is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// Timeouts are the limits Serve puts on slow or silent clients: reading a
// request's headers, reading the whole request, each write of the answer
// (a stall, not the whole answer) and a keep-alive connection's idle wait.
type Timeouts = timeouts.Timeouts

// DefaultTimeouts returns the limits Serve uses unless [WithTimeouts] says
// otherwise. A request is at most 64 KiB, so 15 s to read it is generous
// even on a slow link; an answer is one write at the end, so a client that
// has not taken it within 30 s has gone; and a keep-alive connection may
// wait 2 minutes for its next question.
func DefaultTimeouts() Timeouts {
	return Timeouts{Header: 10 * time.Second, Read: 15 * time.Second, Write: 30 * time.Second, Idle: 2 * time.Minute}
}

// WithTimeouts replaces the limits Serve puts on slow clients.
func WithTimeouts(t Timeouts) Option {
	return func(s *Service) { s.timeouts = t }
}

// withShutdownTimeout bounds the graceful shutdown in Serve: requests still
// running after d are cancelled. The default is DefaultShutdownTimeout.
// Only tests need a shorter one.
func withShutdownTimeout(d time.Duration) Option {
	return func(s *Service) { s.shutdown = d }
}

// New validates cfg, loads and indexes the corpus, and returns a Service.
// It starts no goroutines; call Close (or let Serve return) to release the
// upstream connections of the Service's own transport.
func New(cfg Config, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("assistant: invalid configuration: %w", err)
	}
	s := &Service{cfg: cfg, shutdown: DefaultShutdownTimeout, timeouts: DefaultTimeouts()}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.rt == nil {
		s.ownRT = newTransport()
		s.rt = s.ownRT
	}
	ix, err := loadIndex(cfg.CorpusDir)
	if err != nil {
		return nil, fmt.Errorf("assistant: %w", err)
	}
	s.index = ix
	s.systemJSON = jsonfast.AppendString(nil, systemPrompt)
	s.leadJSON = jsonfast.AppendString(nil, excerptsLead)
	s.sourceJSON = make([][]byte, len(ix.chunks))
	s.contextJSON = make([][]byte, len(ix.chunks))
	s.excerptLineJSON = make([][]byte, len(ix.chunks))
	for i, c := range ix.chunks {
		ex := excerpt(c.Text, cfg.ExcerptChars)
		b := append([]byte(nil), `{"id":"`...)
		b = jsonfast.AppendString(b, c.ID)
		b = append(b, `","title":"`...)
		b = jsonfast.AppendString(b, c.Title)
		b = append(b, `","excerpt":"`...)
		b = jsonfast.AppendString(b, ex)
		s.sourceJSON[i] = append(b, `","score":`...)
		s.contextJSON[i] = jsonfast.AppendString(nil, c.Title+"\n"+c.Text+"\n\n")
		s.excerptLineJSON[i] = jsonfast.AppendString(nil, c.Title+": "+ex)
	}
	s.cache = newLRUCache(cfg.CacheSize, cfg.CacheTTL)
	if s.client, err = newClient(cfg, s.rt); err != nil {
		return nil, fmt.Errorf("assistant: %w", err)
	}

	// Breakers first by name, so that metrics exist before any transition.
	names := []string{cfg.Breaker.Name}
	if cfg.Breaker.Scope == ScopePerEndpoint {
		names = []string{cfg.Breaker.Name + "." + EndpointChat, cfg.Breaker.Name + "." + EndpointText}
	}
	s.metrics = newMetrics(names)
	s.promh = promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	onTransition := func(t Transition) {
		s.metrics.transition(t)
		logTransition(s.log, t)
		if s.observer != nil {
			s.observer(t)
		}
	}
	deps := breakerDeps{
		onTransition: onTransition,
		store:        s.store,
		onStoreError: func(name string, err error) {
			s.metrics.storeErrors.WithLabelValues(name).Inc()
			s.log.Warn("circuit breaker store failed", slog.String("breaker", name), slog.Any("error", err))
			if s.onStore != nil {
				s.onStore(name, err)
			}
		},
	}
	for _, n := range names {
		b, err := newBreaker(n, cfg.Breaker, cfg.CallTimeout, deps)
		if err != nil {
			return nil, fmt.Errorf("assistant: %w", err)
		}
		s.breakers = append(s.breakers, b)
	}
	chatBr, textBr := s.breakers[0], s.breakers[len(s.breakers)-1]
	switch cfg.Mode {
	case ModeChat:
		s.endpoints = []endpoint{{EndpointChat, chatBr}}
	case ModeText:
		s.endpoints = []endpoint{{EndpointText, textBr}}
	default:
		s.endpoints = []endpoint{{EndpointChat, chatBr}, {EndpointText, textBr}}
	}
	return s, nil
}

// newTransport is tuned for thousands of requests per second to one host:
// enough idle connections that they are reused rather than churned.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 1024
	t.IdleConnTimeout = 90 * time.Second
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	return t
}

// Config returns the configuration the Service runs with.
func (s *Service) Config() Config { return s.cfg }

// Status returns the status of every breaker: one with scope shared, chat
// then text with scope per-endpoint.
func (s *Service) Status() []BreakerStatus {
	st := make([]BreakerStatus, len(s.breakers))
	for i, b := range s.breakers {
		st[i] = b.status()
	}
	return st
}

// Close releases the idle upstream connections of the Service's own
// transport. The Service stays usable.
func (s *Service) Close() error {
	if s.ownRT != nil {
		s.ownRT.CloseIdleConnections()
	}
	return nil
}

// ServeHTTP routes POST /assistant/query, GET
// /assistant/health/circuit-breaker and GET /metrics. Anything else is a 404
// with a JSON body; a known path with the wrong method is a 405.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case contract.PathQuery:
		if r.Method != http.MethodPost {
			s.wrongMethod(w, r, "POST", http.MethodPost)
			return
		}
		s.handleQuery(w, r)
	case contract.PathHealth:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.wrongMethod(w, r, "GET", "GET, HEAD")
			return
		}
		s.handleHealth(w, r)
	case PathMetrics:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.wrongMethod(w, r, "GET", "GET, HEAD")
			return
		}
		s.promh.ServeHTTP(w, r)
	default:
		s.refuse(w, http.StatusNotFound, "not_found",
			"no route "+r.URL.Path+": the assistant serves POST "+contract.PathQuery+", GET "+contract.PathHealth+" and GET "+PathMetrics, "")
	}
}

// wrongMethod refuses r with a 405 that names the method to use; allow goes
// in the Allow header.
func (s *Service) wrongMethod(w http.ResponseWriter, r *http.Request, use, allow string) {
	s.refuse(w, http.StatusMethodNotAllowed, "method_not_allowed",
		r.Method+" is not allowed on "+r.URL.Path+": use "+use, allow)
}

// Serve answers on l until ctx is done, then shuts down gracefully: it
// stops accepting, lets running requests finish for at most the shutdown
// timeout, cancels the rest, and returns once every handler has returned.
// It returns nil after a clean shutdown and closes l in every case.
func (s *Service) Serve(ctx context.Context, l net.Listener) error {
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	// inflight counts running handlers so that Serve returns only after the
	// last one; once closed is set (the server no longer hands out
	// requests) a straggler is refused rather than added to a finished
	// WaitGroup.
	var (
		mu       sync.Mutex
		closed   bool
		inflight sync.WaitGroup
	)
	waitHandlers := func() {
		mu.Lock()
		closed = true
		mu.Unlock()
		inflight.Wait()
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if closed {
				mu.Unlock()
				w.Header().Set("Connection", "close")
				s.writeJSON(w, http.StatusServiceUnavailable, &ErrorResponse{Error: "shutting_down", Message: "the assistant is shutting down"})
				return
			}
			inflight.Add(1)
			mu.Unlock()
			defer inflight.Done()
			s.ServeHTTP(w, r)
		}),
		BaseContext: func(net.Listener) context.Context { return base },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.timeouts.Apply(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()

	var err error
	select {
	case err = <-errc:
		// The listener failed before ctx was done.
		cancelBase()
		srv.Close()
		waitHandlers()
		s.Close()
		return fmt.Errorf("assistant: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.shutdown)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		// Requests outlived the grace period: cancel their upstream calls
		// and close their connections.
		cancelBase()
		srv.Close()
		err = fmt.Errorf("assistant: shutdown: requests still running after %v were cancelled", s.shutdown)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("assistant: serve: %w", serr)
	}
	waitHandlers()
	s.Close()
	return err
}
