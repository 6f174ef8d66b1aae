package recording

import (
	"time"

	"brownout/contract"
)

// FormatVersion is the version of the file set this package writes. Readers
// refuse other versions rather than misreading them.
const FormatVersion = 1

// Names of the files in a run folder.
const (
	HeaderFile      = "run.json"
	RequestsFile    = "requests.jsonl"
	TransitionsFile = "transitions.jsonl"
	UpstreamFile    = "upstream.jsonl"
	VegetaFile      = "results.bin"
)

// Request is one load request and what it got back.
type Request struct {
	Seq uint64        `json:"seq"`
	T   time.Duration `json:"t_ns"` // start, scenario time since the run began
	// Intended is when the load generator should have sent the request by
	// its rate pattern (scenario time); T - Intended is how late it was
	// sent. Zero in recordings whose header lacks IntendedTimes.
	Intended time.Duration           `json:"intended_ns"`
	Latency  time.Duration           `json:"latency_ns"` // scenario time
	Status   int                     `json:"status"`     // 0 when no HTTP answer arrived
	Outcome  contract.Outcome        `json:"outcome"`
	Reason   contract.FallbackReason `json:"reason,omitempty"` // fallback_reason of a fallback answer
	Phase    string                  `json:"phase"`            // phase in which the request started
	Breaker  contract.State          `json:"breaker"`          // breaker state when the answer was produced
	Error    string                  `json:"error,omitempty"`  // transport or decoding error text

	// RealLatency is the latency as measured, in real (compressed) time.
	// Latency is RealLatency plus (time_scale − 1) times the part of it
	// spent waiting on something simulated (upstream calls, timeouts), so
	// the two together show the correction. Zero in recordings made before
	// the field existed, and in runs at time scale 1.
	RealLatency time.Duration `json:"real_latency_ns,omitempty"`

	// Replica is the assistant replica the request was sent to, from 1
	// as in the breaker names NAME/rK. Zero (the field absent) when the
	// run had one replica, or the recording predates the field; see
	// OfReplica.
	Replica int `json:"replica,omitempty"`
}

// Transition is one breaker state change, at its exact time.
type Transition struct {
	T time.Duration `json:"t_ns"` // scenario time since the run began
	// Resolution is set for a transition seen from outside the service
	// (polled or inferred): it happened in (T-Resolution, T]. Zero means
	// T is exact, as in recordings made before external targets.
	Resolution time.Duration `json:"resolution_ns,omitempty"`
	Breaker    string        `json:"breaker"`
	// Replica is the replica whose breaker this is (from 1, the K of
	// NAME/rK); zero as for Request.Replica.
	Replica int            `json:"replica,omitempty"`
	From    contract.State `json:"from"`
	To      contract.State `json:"to"`
}

// UpstreamCall is one call the fake upstream received.
type UpstreamCall struct {
	Seq      uint64         `json:"seq"`
	T        time.Duration  `json:"t_ns"` // arrival, scenario time since the run began
	Phase    string         `json:"phase"`
	Route    string         `json:"route"`
	Fault    string         `json:"fault,omitempty"` // fault kind applied; empty when healthy
	Status   int            `json:"status"`          // 0 when no HTTP status was sent
	Duration time.Duration  `json:"duration_ns"`     // scenario time
	Bytes    int64          `json:"bytes"`
	Breaker  contract.State `json:"breaker"` // breaker state when the assistant sent the call (matched by X-Request-Id)
	// Replica is the assistant replica that sent the call (from 1);
	// zero as for Request.Replica, and for a call that carried no
	// request id the run knew.
	Replica int `json:"replica,omitempty"`
}

// OfReplica reports whether a record stamped with replica (a Replica
// field) belongs to replica k (from 1). An unstamped record (zero) is
// taken as replica 1's, as it is in a one-replica run.
func OfReplica(replica, k int) bool {
	return replica == k || (replica == 0 && k == 1)
}

// Failed reports whether the call counts as an upstream failure: a fault was
// injected or the answer was not a 2xx.
func (c UpstreamCall) Failed() bool {
	return c.Fault != "" || c.Status < 200 || c.Status > 299
}

// PhaseSpan is where one phase lies on the scenario clock.
type PhaseSpan struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
}

// Counts are the number of records in each file, written into the header
// at the end so a reader can tell a complete file from a truncated one.
type Counts struct {
	Requests      int64 `json:"requests"`
	Transitions   int64 `json:"transitions"`
	UpstreamCalls int64 `json:"upstream_calls"`
}

// Header describes a run: what was played, with which settings, and how it
// ended. It is written at the start of a run and rewritten at its end.
type Header struct {
	Format       int           `json:"format"`
	Scenario     string        `json:"scenario"`
	Description  string        `json:"description,omitempty"`
	ScenarioYAML string        `json:"scenario_yaml"` // the effective scenario (defaults and overrides applied), in scenario time
	Seed         int64         `json:"seed"`
	TimeScale    float64       `json:"time_scale"`
	StartedAt    time.Time     `json:"started_at"` // wall clock
	EndedAt      time.Time     `json:"ended_at,omitzero"`
	Duration     time.Duration `json:"duration_ns"` // scenario time covered by the recording
	Phases       []PhaseSpan   `json:"phases"`
	Breakers     []string      `json:"breakers"` // breaker names, in display order
	// Target describes the service played against when it was not the
	// built-in assistant in process; nil for recordings of the built-in one.
	Target   *TargetInfo       `json:"target,omitempty"`
	Versions map[string]string `json:"versions"`
	// IntendedTimes says the requests carry their intended send time
	// (Request.Intended); recordings made before it was added do not.
	IntendedTimes bool   `json:"intended_times,omitempty"`
	Complete      bool   `json:"complete"`    // false while running or after a crash
	Interrupted   bool   `json:"interrupted"` // stopped early by a signal or cancellation
	Counts        Counts `json:"counts"`

	// Distortion is what the run measured of whether this machine kept up
	// with its time scale; nil in recordings made before it existed.
	Distortion *Distortion `json:"distortion,omitempty"`
}

// PhaseAt returns the name of the phase in effect at scenario time t; the
// last phase extends past its end, the first before its start.
func (h *Header) PhaseAt(t time.Duration) string {
	if len(h.Phases) == 0 {
		return ""
	}
	for _, p := range h.Phases {
		if t < p.End {
			return p.Name
		}
	}
	return h.Phases[len(h.Phases)-1].Name
}

// durationOf converts an integer nanosecond count from a log line.
func durationOf(ns int64) time.Duration { return time.Duration(ns) }

// How an external target's breaker transitions were seen.
const (
	// ObservedHealth: by polling the service's health endpoint.
	ObservedHealth = "health"
	// ObservedAnswers: inferred from the answers (fallback reason
	// circuit_breaker_open or circuit_open, or a 503, means open; an
	// answer from the upstream means closed). Half-open cannot be seen.
	ObservedAnswers = "answers"
)

// TargetInfo says what a run played against and how precisely its breaker
// transitions are known.
type TargetInfo struct {
	Kind    string `json:"kind"`              // "launched" or "running"
	Command string `json:"command,omitempty"` // a launched target's command line
	URL     string `json:"url"`               // the service's base URL during the run
	// Observed is ObservedHealth or ObservedAnswers.
	Observed string `json:"observed"`
	// Resolution is the polling interval in scenario time: a polled
	// transition is known to within it. Zero for inferred transitions,
	// whose resolution is per transition.
	Resolution time.Duration `json:"resolution_ns,omitempty"`
	// Log is the file in the run folder holding a launched target's
	// stdout and stderr.
	Log string `json:"log,omitempty"`
}
