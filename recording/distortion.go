package recording

import "time"

// Limits of the distortion checks. A run beyond any of them is flagged as
// distorted: its recording shows the machine's limits rather than the
// scenario. The timer check's limit is Distortion.Tolerance.
const (
	// MinAchievedRate is the lowest share of a phase's target request rate
	// the load generator may achieve.
	MinAchievedRate = 0.95
	// MaxContentionTimeoutShare is the largest share of upstream calls
	// that may time out although the fake meant to answer them in time.
	MaxContentionTimeoutShare = 0.005
	// MaxUpstreamSlowdown is how much longer than planned upstream calls
	// may keep the assistant waiting, on average, as a fraction.
	MaxUpstreamSlowdown = 0.10
)

// Distortion is what a time-compressed run measured of its own honesty:
// whether this machine kept up with the compressed scenario, so that the
// recording shows the scenario and not the machine. A run is Distorted
// when any check is beyond its limit; Reasons then say which, in words a
// user can act on. A run at time scale 1 is never distorted (nothing is
// compressed), though its figures are kept. Durations are scenario time.
type Distortion struct {
	Distorted bool     `json:"distorted"`
	Reasons   []string `json:"reasons,omitempty"`
	// Tolerance is the scenario time a timing error may reach: a tenth of
	// the shortest duration that decides a breaker transition (call
	// timeout, reset timeout, client timeout, shortest phase).
	Tolerance time.Duration `json:"tolerance_ns"`

	// TargetRequests is how many requests the rate pattern asked for in
	// the time the run covered; SentRequests how many were sent.
	// AchievedRateRatio is the lowest per-phase ratio of the two.
	TargetRequests    int64   `json:"target_requests"`
	SentRequests      int64   `json:"sent_requests"`
	AchievedRateRatio float64 `json:"achieved_rate_ratio"`

	// UpstreamCalls counts the calls joined with the fake's log.
	// TimedOutCalls hit the breaker's call timeout; ContentionTimeouts are
	// those among them whose planned delay (and queue wait) was shorter
	// than the timeout: the machine, not the scenario, made them late.
	UpstreamCalls      int64 `json:"upstream_calls"`
	TimedOutCalls      int64 `json:"timed_out_calls"`
	ContentionTimeouts int64 `json:"contention_timeouts"`
	// UpstreamSlowdown is how much longer completed upstream calls look
	// in scenario time than the fake planned them (delay plus queue
	// wait), as a fraction: the machine's own overhead on each call is
	// scaled up with the call, (K−1)/K of it per unit of scaled delay.
	// 0.05 means 5% slower than the scenario says; 0 at time scale 1.
	// For an external target, whose side of its calls is not seen, these
	// come from the fake's log alone: a call left before its planned
	// delay timed out, and the slowdown is the fake's own overhead, a
	// lower bound of what the service waited.
	UpstreamSlowdown float64 `json:"upstream_slowdown"`

	// TimerLatenessP99 and TimerLatenessMax are how late a probe timer
	// fired, like the breaker's and the fake's timers, in scenario time.
	TimerLatenessP99 time.Duration `json:"timer_lateness_p99_ns"`
	TimerLatenessMax time.Duration `json:"timer_lateness_max_ns"`

	// SendLagP99 is how late the load generator sent requests after their
	// due time by the rate pattern, p99, in scenario time: a late request
	// reaches the breaker at a moment the scenario does not say.
	SendLagP99 time.Duration `json:"send_lag_p99_ns"`
	// BreakerLatenessMax is how late the breaker turned half-open, at
	// most, after the first request due past its reset timeout (gobreaker
	// has no timer: an open breaker turns half-open when a request finds
	// its timeout expired), in scenario time, over BreakerTimers such
	// transitions. Measured for the built-in assistant in process with
	// one replica, whose transitions are exact; zero otherwise.
	BreakerLatenessMax time.Duration `json:"breaker_lateness_max_ns,omitempty"`
	BreakerTimers      int           `json:"breaker_timers,omitempty"`

	// LocalWorkP99 is the p99 real latency of answers the service made
	// without an upstream call (the breaker refused it): its own work,
	// which time compression cannot shorten. LocalWorkShift is what that
	// work weighs in scenario time beyond what it would at time scale 1,
	// (K−1) × LocalWorkP99: how late, against the scaled timers, whatever
	// follows it happens. A launched service with slow request handling
	// shows here. Zero when no such answer was made.
	LocalWorkP99   time.Duration `json:"local_work_p99_ns,omitempty"`
	LocalWorkShift time.Duration `json:"local_work_shift_ns,omitempty"`

	// UncorrectedCalls counts, for an external target at a time scale
	// other than 1, the upstream calls the fake received that named no
	// load request (the service did not forward X-Request-Id): their
	// waits could not be scaled, so the latency of the requests that made
	// them reads at real speed for that part. Zero for the built-in
	// assistant, which always forwards the id.
	UncorrectedCalls int64 `json:"uncorrected_calls,omitempty"`
}

// SetDistortion records the run's distortion checks in the header written
// by Close.
func (w *Writer) SetDistortion(d *Distortion) { w.header.Distortion = d }
