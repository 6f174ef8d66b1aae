package faults

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statKey groups calls for GET /_brownout/stats and the metrics; fault is
// the label of the fault, "none" for none.
type statKey struct {
	phase, route, fault string
	status              int
}

// statEntry counts one group, with its Prometheus children resolved once.
type statEntry struct {
	n        int64
	bytes    int64
	calls    prometheus.Counter
	duration prometheus.Observer
}

// stats aggregates calls; the lock is held only to find a group.
type stats struct {
	mu       sync.Mutex
	m        map[statKey]*statEntry
	callsVec *prometheus.CounterVec
	durVec   *prometheus.HistogramVec
	inflight prometheus.Gauge
	queued   prometheus.Gauge
	metrics  http.Handler
}

func newStats() *stats {
	st := &stats{m: make(map[statKey]*statEntry)}
	st.callsVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "brownout_fakehf_calls_total",
		Help: "Calls to the fake inference server by phase, route, injected fault and status (0 = none sent).",
	}, []string{"phase", "route", "fault", "code"})
	st.durVec = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "brownout_fakehf_call_duration_seconds",
		Help:    "Time from arrival until the server was done with a call.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"phase", "route"})
	st.inflight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "brownout_fakehf_inflight",
		Help: "Requests in service in capacity-limited phases.",
	})
	st.queued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "brownout_fakehf_queued",
		Help: "Requests waiting for a capacity slot.",
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(st.callsVec, st.durVec, st.inflight, st.queued)
	st.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return st
}

// add counts one call.
func (st *stats) add(c *Call) {
	k := statKey{c.Phase, c.Route, cmp.Or(c.Fault, "none"), c.Status}
	st.mu.Lock()
	e := st.m[k]
	if e == nil {
		e = &statEntry{
			calls:    st.callsVec.WithLabelValues(k.phase, k.route, k.fault, strconv.Itoa(k.status)),
			duration: st.durVec.WithLabelValues(k.phase, k.route),
		}
		st.m[k] = e
	}
	e.n++
	e.bytes += c.Bytes
	st.mu.Unlock()
	e.calls.Inc()
	e.duration.Observe(c.Duration.Seconds())
}

// Stats is the JSON document served at GET /_brownout/stats.
type Stats struct {
	Model  string       `json:"model"`
	Seed   int64        `json:"seed"`
	Phase  string       `json:"phase"` // active now
	Calls  int64        `json:"calls"`
	Phases []PhaseStats `json:"phases"`
}

// PhaseStats summarises the calls that arrived during one phase.
type PhaseStats struct {
	Name     string           `json:"name"`
	Calls    int64            `json:"calls"`
	Bytes    int64            `json:"bytes"`
	ByRoute  map[string]int64 `json:"by_route"`
	ByFault  map[string]int64 `json:"by_fault"`  // "none" = no fault
	ByStatus map[string]int64 `json:"by_status"` // "0" = no status sent
}

// Stats summarises the calls so far, per phase in timeline order.
func (s *Server) Stats() Stats {
	st := s.stats
	out := Stats{Model: s.model, Seed: s.seed, Phase: s.phaseAt(time.Now()).name}
	idx := make(map[string]int, len(s.phases))
	for i, p := range s.phases {
		idx[p.name] = i
		out.Phases = append(out.Phases, PhaseStats{Name: p.name,
			ByRoute: map[string]int64{}, ByFault: map[string]int64{}, ByStatus: map[string]int64{}})
	}
	st.mu.Lock()
	for k, e := range st.m {
		ps := &out.Phases[idx[k.phase]]
		ps.Calls += e.n
		ps.Bytes += e.bytes
		ps.ByRoute[k.route] += e.n
		ps.ByFault[k.fault] += e.n
		ps.ByStatus[strconv.Itoa(k.status)] += e.n
		out.Calls += e.n
	}
	st.mu.Unlock()
	return out
}

func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = []string{http.MethodGet}
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header()["Content-Type"] = ctJSON
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.Stats())
}
