package assistant

import (
	"github.com/prometheus/client_golang/prometheus"

	"brownout/contract"
)

// Upstream call results in the upstream_calls_total metric: "success", or
// an ErrorKind name ("status", "malformed", "empty", "transport",
// "timeout", "canceled"), with "client_error" for the 4xx answers that
// the breaker does not count.
const (
	resultSuccess     = "success"
	resultClientError = "client_error"
)

// latencyBuckets span a cache hit (well under a millisecond) to a call
// timeout (tens of seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// metrics are one Service's Prometheus collectors, in the Service's own
// registry so that several services can live in one process.
type metrics struct {
	reg         *prometheus.Registry
	state       *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	rejections  *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	rejected    map[string]prometheus.Counter // by breaker name; filled at start
	answers     map[contract.Outcome]prometheus.Counter
	latency     map[contract.Outcome]prometheus.Observer
	calls       *prometheus.CounterVec
	invalid     *prometheus.CounterVec
	callCache   map[[2]string]prometheus.Counter // endpoint, result; filled at start
}

// newMetrics registers the collectors, with a series for every breaker name
// already present so that metrics exist before any transition.
func newMetrics(breakerNames []string) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "assistant_breaker_state",
			Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		}, []string{"breaker"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistant_breaker_transitions_total",
			Help: "Circuit breaker state transitions.",
		}, []string{"breaker", "from", "to"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistant_breaker_rejections_total",
			Help: "Upstream calls the circuit breaker refused (open, or half-open and busy).",
		}, []string{"breaker"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistant_breaker_store_errors_total",
			Help: "Failures of a shared breaker's store (Redis); the breaker fails closed on each.",
		}, []string{"breaker"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistant_upstream_calls_total",
			Help: "Upstream calls made, by endpoint and result.",
		}, []string{"endpoint", "result"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assistant_invalid_requests_total",
			Help: "Requests refused as invalid, by HTTP status.",
		}, []string{"code"}),
		rejected:  make(map[string]prometheus.Counter),
		answers:   make(map[contract.Outcome]prometheus.Counter),
		latency:   make(map[contract.Outcome]prometheus.Observer),
		callCache: make(map[[2]string]prometheus.Counter),
	}
	answers := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assistant_answers_total",
		Help: "Answers to /assistant/query by outcome: upstream, l1_cache, excerpts, unavailable.",
	}, []string{"outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "assistant_request_duration_seconds",
		Help:    "Time to answer /assistant/query, by outcome.",
		Buckets: latencyBuckets,
	}, []string{"outcome"})
	for _, o := range contract.AssistantOutcomes {
		m.answers[o] = answers.WithLabelValues(string(o))
		m.latency[o] = latency.WithLabelValues(string(o))
	}
	for _, ep := range []string{EndpointChat, EndpointText} {
		for _, r := range append([]string{resultSuccess, resultClientError}, kindNames[1:]...) {
			m.callCache[[2]string{ep, r}] = m.calls.WithLabelValues(ep, r)
		}
	}
	for _, n := range breakerNames {
		m.state.WithLabelValues(n).Set(0)
		m.rejected[n] = m.rejections.WithLabelValues(n)
		m.storeErrors.WithLabelValues(n)
	}
	m.reg.MustRegister(m.state, m.transitions, m.rejections, m.storeErrors, answers, latency, m.calls, m.invalid)
	return m
}

// transition updates the state gauge and the transitions counter. It runs
// under the breaker's lock and touches only Prometheus collectors.
func (m *metrics) transition(t Transition) {
	m.state.WithLabelValues(t.Breaker).Set(stateValue(t.To))
	m.transitions.WithLabelValues(t.Breaker, t.From.String(), t.To.String()).Inc()
}

func stateValue(s contract.State) float64 {
	switch s {
	case contract.StateHalfOpen:
		return 1
	case contract.StateOpen:
		return 2
	}
	return 0
}

// call counts one upstream call by its error (nil for success).
func (m *metrics) call(endpoint string, err error) {
	result := resultSuccess
	if err != nil {
		result = KindTransport.String()
		if ue, ok := err.(*UpstreamError); ok {
			result = ue.Kind.String()
			if ue.ClientError() {
				result = resultClientError
			}
		}
	}
	if c, ok := m.callCache[[2]string{endpoint, result}]; ok {
		c.Inc()
		return
	}
	m.calls.WithLabelValues(endpoint, result).Inc()
}
