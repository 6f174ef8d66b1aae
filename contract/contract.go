// Package contract is the wire vocabulary of the seed's assistant: the
// breaker states, the fallback reasons and sources its answers carry, the
// outcome classes a client reads from an answer, the query body, paths and
// headers. The assistant speaks it, the harness classifies and records it,
// scenarios validate threshold filters against it and reports draw it, so
// each word is spelled once, here, and adding a state or an outcome is one
// edit that the compiler follows everywhere.
//
// It is a leaf package: it imports nothing of brownout's and no server, so
// scenarios and reports can use it without depending on the assistant.
package contract

// State is a circuit breaker's state as the contract spells it: in the
// health endpoint's "state", the X-Breaker-State header, transitions and
// every recorded request and upstream call.
type State string

// The breaker states, and the marker recorded when the breaker is off.
const (
	StateClosed   State = "closed"
	StateOpen     State = "open"
	StateHalfOpen State = "half-open"
	// StateDisabled marks records of a run whose breaker was switched off;
	// a breaker is never in it.
	StateDisabled State = "disabled"
)

// States lists the states a breaker can be in, as threshold filters
// (breaker:STATE) accept them.
var States = []State{StateClosed, StateOpen, StateHalfOpen}

// String returns the state as the contract spells it.
func (s State) String() string { return string(s) }

// FallbackSource is metadata.fallback_source of a fallback answer: which
// level of the fallback chain produced it.
type FallbackSource string

// The fallback sources, level 1 then level 2.
const (
	SourceL1Cache  FallbackSource = "l1_cache"
	SourceExcerpts FallbackSource = "excerpts"
)

// FallbackReason is metadata.fallback_reason of a fallback answer: why the
// upstream did not answer.
type FallbackReason string

// The fallback reasons.
const (
	// ReasonCircuitOpen: the breaker refused the call (open, or half-open
	// with its probes in flight). The value is the seed's; brownout before
	// the reliability review wrote "circuit_open", which recordings still
	// read as this.
	ReasonCircuitOpen FallbackReason = "circuit_breaker_open"
	// ReasonUpstreamTimeout: the call ran out of its call timeout.
	ReasonUpstreamTimeout FallbackReason = "upstream_timeout"
	// ReasonUpstreamError: anything else (an error status, a malformed or
	// empty body, a connection error).
	ReasonUpstreamError FallbackReason = "upstream_error"
	// ReasonStoreError: a breaker shared between replicas could not reach
	// its store, and fails closed.
	ReasonStoreError FallbackReason = "breaker_store_error"

	// reasonCircuitOpenBefore is how brownout spelt ReasonCircuitOpen
	// before it took the seed's spelling; older recordings and targets
	// still say it.
	reasonCircuitOpenBefore FallbackReason = "circuit_open"
)

// Canonical returns the reason in today's spelling: the older
// "circuit_open" reads as ReasonCircuitOpen, so old and new recordings and
// targets compare alike.
func (r FallbackReason) Canonical() FallbackReason {
	if r == reasonCircuitOpenBefore {
		return ReasonCircuitOpen
	}
	return r
}

// Outcome classifies what a query got back, read from the HTTP answer
// alone. The assistant produces the first four; a client adds error and
// bad_response for answers the contract does not allow. Threshold filters
// (outcome:NAME), the recording and the assistant's metrics use these names.
type Outcome string

// The outcome classes. A fallback answer's outcome is its fallback source.
const (
	// OutcomeUpstream is a 200 answered by the upstream model.
	OutcomeUpstream Outcome = "upstream"
	// OutcomeCache is a 200 served from the L1 query cache (fallback level 1).
	OutcomeCache = Outcome(SourceL1Cache)
	// OutcomeExcerpts is a 200 built from retrieved excerpts (fallback level 2).
	OutcomeExcerpts = Outcome(SourceExcerpts)
	// OutcomeUnavailable is the assistant's 503 (fallback level 3).
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeError is a transport error or client timeout: no HTTP answer.
	OutcomeError Outcome = "error"
	// OutcomeBadResponse is an HTTP answer the contract does not allow: an
	// unexpected status or a body that does not parse.
	OutcomeBadResponse Outcome = "bad_response"
)

// Outcomes lists every outcome class in the order reports stack them.
var Outcomes = []Outcome{OutcomeUpstream, OutcomeCache, OutcomeExcerpts, OutcomeUnavailable, OutcomeError, OutcomeBadResponse}

// AssistantOutcomes are the outcomes the assistant itself produces.
var AssistantOutcomes = Outcomes[:4]

// OutcomeOf is the outcome of a fallback answer from source, false for a
// source the contract does not define.
func OutcomeOf(source FallbackSource) (Outcome, bool) {
	switch source {
	case SourceL1Cache, SourceExcerpts:
		return Outcome(source), true
	}
	return "", false
}

// Paths of the assistant's HTTP API.
const (
	PathQuery  = "/assistant/query"
	PathHealth = "/assistant/health/circuit-breaker"
)

// Headers of the contract.
const (
	// HeaderBreakerState is set on every query answer to the state of the
	// (last) breaker the query went through, as the call left it.
	HeaderBreakerState = "X-Breaker-State"
	// HeaderRequestID carries a query's id; the assistant forwards it on
	// each upstream call the query makes, so the fake upstream can tell
	// which query a call belonged to.
	HeaderRequestID = "X-Request-Id"
)

// QueryRequest is the body of POST /assistant/query.
type QueryRequest struct {
	Question string `json:"question"`
	TopK     int    `json:"top_k,omitempty"`
}

// ErrorServiceUnavailable is the "error" of the 503 answer.
const ErrorServiceUnavailable = "service_unavailable"
