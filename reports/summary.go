package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// SummaryFormat is the version of the summary.json layout.
const SummaryFormat = 1

// Summary is everything summary.json holds: every metric overall and per
// phase, every threshold with its observed value and verdict, the run's
// settings and versions. Its JSON has a fixed key order, so two renders of
// the same run are byte-identical.
type Summary struct {
	Format      int    `json:"format"`
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
	Verdict     string `json:"verdict"` // "pass", "fail", "distorted" or "incomplete"
	Passed      bool   `json:"passed"`
	Interrupted bool   `json:"interrupted"`
	Complete    bool   `json:"complete"`
	// Incomplete says why a recording is not complete (a run that never
	// finished, logs that disagree with run.json's counts); CompleteUntil
	// is the scenario time up to which every request is there.
	Incomplete    []string `json:"incomplete,omitempty"`
	CompleteUntil *float64 `json:"complete_until_s,omitempty"`
	// LoadShort flags a run whose load generator sent fewer requests than
	// asked for (by more than ShortfallTolerance) overall or in a phase;
	// Shortfalls says where.
	LoadShort  bool              `json:"load_short"`
	Shortfalls []Shortfall       `json:"shortfalls,omitempty"`
	StartedAt  time.Time         `json:"started_at"`
	Duration   float64           `json:"duration_s"` // scenario time covered by the recording
	Settings   Settings          `json:"settings"`
	Versions   map[string]string `json:"versions"`
	Counts     recording.Counts  `json:"counts"`
	Overall    Metrics           `json:"overall"`
	Phases     []PhaseSummary    `json:"phases"`
	Thresholds []ThresholdResult `json:"thresholds"`
	// Distortion is the run's time-compression checks; when it says the
	// run is distorted, Verdict is "distorted" and Passed is false.
	Distortion *recording.Distortion `json:"distortion,omitempty"`
}

// Settings are the run settings a reader needs to interpret its figures.
type Settings struct {
	Seed      int64           `json:"seed"`
	TimeScale float64         `json:"time_scale"`
	Breaker   BreakerSettings `json:"breaker"`
	// Target is set when the run played against a service other than the
	// built-in assistant in process.
	Target *TargetSettings `json:"target,omitempty"`
}

// TargetSettings say what an external target was and how precisely its
// breaker transitions are known.
type TargetSettings struct {
	recording.TargetInfo
	// Widest is the widest interval, in seconds of scenario time, within
	// which a transition was seen (TransitionResolution).
	Widest float64 `json:"widest_interval_s"`
}

// BreakerSettings are the breaker settings the run used, durations written
// as Go duration strings.
type BreakerSettings struct {
	Enabled             bool    `json:"enabled"`
	Policy              string  `json:"policy"`
	FailThreshold       int     `json:"fail_threshold"`
	FailureRatio        float64 `json:"failure_ratio"`
	MinRequests         int     `json:"min_requests"`
	ResetTimeout        string  `json:"reset_timeout"`
	HalfOpenMaxRequests int     `json:"half_open_max_requests"`
	Interval            string  `json:"interval"`
	Window              string  `json:"window"`
	Buckets             int     `json:"buckets"`
	CallTimeout         string  `json:"call_timeout"`
	Scope               string  `json:"scope"`
}

// PhaseSummary is every metric over one phase.
type PhaseSummary struct {
	Name    string  `json:"name"`
	Start   float64 `json:"start_s"`
	End     float64 `json:"end_s"`
	Metrics Metrics `json:"metrics"`
}

// MetricValue is one metric's value in its base unit. Never marks an event
// that did not happen (JSON "never"); NoData a value over nothing (JSON
// null).
type MetricValue struct {
	Name   string
	Value  float64
	Never  bool
	NoData bool
}

// Metrics is a list of metric values in [MetricNames] order; it encodes as
// a JSON object in that order.
type Metrics []MetricValue

// Get returns the named metric's value.
func (m Metrics) Get(name string) (MetricValue, bool) {
	for _, v := range m {
		if v.Name == name {
			return v, true
		}
	}
	return MetricValue{}, false
}

// MarshalJSON writes the metrics as one object with keys in list order.
func (m Metrics) MarshalJSON() ([]byte, error) {
	return orderedObject(len(m), func(i int) (string, any) {
		v := m[i]
		switch {
		case v.Never:
			return v.Name, "never"
		case v.NoData || math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
			return v.Name, nil
		}
		return v.Name, v.Value
	})
}

// orderedObject encodes n entries as one JSON object whose keys keep the
// order of the list, which a Go map would lose.
func orderedObject(n int, entry func(i int) (key string, value any)) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		key, value := entry(i)
		k, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ThresholdResult is one verdict as summary.json writes it.
type ThresholdResult struct {
	Key       string   `json:"key"`
	Metric    string   `json:"metric"`
	Phase     string   `json:"phase,omitempty"`
	Breaker   string   `json:"breaker,omitempty"`
	Outcome   string   `json:"outcome,omitempty"`
	Window    string   `json:"window,omitempty"`
	Replica   int      `json:"replica,omitempty"`
	Condition string   `json:"condition"`
	Op        string   `json:"op"`
	Value     float64  `json:"value"`
	Observed  *float64 `json:"observed"` // null when never, no data or error
	Display   string   `json:"display"`
	Never     bool     `json:"never,omitempty"`
	NoData    bool     `json:"no_data,omitempty"`
	Error     string   `json:"error,omitempty"`
	Passed    bool     `json:"passed"`
}

// Summarize computes every metric overall and per phase and gathers the
// verdicts and settings of the run.
func Summarize(r *Recording, verdicts []Verdict) *Summary {
	h := r.Header
	s := &Summary{
		Format:      SummaryFormat,
		Scenario:    h.Scenario,
		Description: h.Description,
		Passed:      allPassed(verdicts) && !r.distorted() && len(r.Incomplete()) == 0,
		Interrupted: h.Interrupted,
		Distortion:  h.Distortion,
		Complete:    h.Complete && len(r.Incomplete()) == 0,
		Incomplete:  r.Incomplete(),
		Shortfalls:  r.shortfalls(),
		StartedAt:   h.StartedAt,
		Duration:    r.Duration().Seconds(),
		Settings:    settingsOf(r),
		Versions:    h.Versions,
		Counts:      h.Counts,
		Overall:     r.allMetrics(-1),
		Phases:      []PhaseSummary{},
		Thresholds:  []ThresholdResult{},
	}
	s.LoadShort = len(s.Shortfalls) > 0
	if len(s.Incomplete) > 0 {
		until := r.CompleteUntil().Seconds()
		s.CompleteUntil = &until
	}
	if s.Versions == nil {
		s.Versions = map[string]string{}
	}
	switch {
	case s.Passed:
		s.Verdict = "pass"
	case len(s.Incomplete) > 0:
		s.Verdict = "incomplete"
	case allPassed(verdicts):
		s.Verdict = "distorted"
	default:
		s.Verdict = "fail"
	}
	for i, p := range h.Phases {
		s.Phases = append(s.Phases, PhaseSummary{Name: p.Name, Start: p.Start.Seconds(), End: p.End.Seconds(), Metrics: r.allMetrics(i)})
	}
	for _, v := range verdicts {
		tr := ThresholdResult{
			Key: v.Threshold.Key, Metric: v.Threshold.Metric,
			Phase: v.Threshold.Filters.Phase, Breaker: v.Threshold.Filters.Breaker, Outcome: v.Threshold.Filters.Outcome, Replica: v.Threshold.Filters.Replica,
			Condition: v.Condition.String(), Op: v.Condition.Op, Value: v.Condition.Value,
			Display: v.Display, Never: v.Never, NoData: v.NoData, Error: v.Err, Passed: v.Passed,
		}
		if w := v.Threshold.Filters.Window; w > 0 {
			tr.Window = w.String()
		}
		if !math.IsNaN(v.Observed) && !math.IsInf(v.Observed, 0) {
			obs := v.Observed
			tr.Observed = &obs
		}
		s.Thresholds = append(s.Thresholds, tr)
	}
	return s
}

// allMetrics computes every metric without window, over one phase (or the
// whole run for phase -1).
func (r *Recording) allMetrics(phase int) Metrics {
	out := make(Metrics, 0, len(MetricNames))
	for _, name := range MetricNames {
		fam, _ := familyOf(name)
		q := query{metric: name, family: fam, phase: phase, breaker: -1, outcome: -1}
		v, ok := r.value(q, scenarios.Condition{})
		out = append(out, MetricValue{Name: name, Value: v, Never: !ok, NoData: ok && math.IsNaN(v)})
	}
	return out
}

func settingsOf(r *Recording) Settings {
	st := Settings{Seed: r.Header.Seed, TimeScale: r.Header.TimeScale}
	if t := r.Header.Target; t != nil {
		st.Target = &TargetSettings{TargetInfo: *t, Widest: r.TransitionResolution().Seconds()}
	}
	if sc := r.Scenario; sc != nil {
		b := sc.Breaker
		st.Breaker = BreakerSettings{
			Enabled: b.Enabled, Policy: b.Policy, FailThreshold: b.FailThreshold, FailureRatio: float64(b.FailureRatio),
			MinRequests: b.MinRequests, ResetTimeout: time.Duration(b.ResetTimeout).String(),
			HalfOpenMaxRequests: b.HalfOpenMaxRequests, Interval: time.Duration(b.Interval).String(),
			Window: time.Duration(b.Window).String(), Buckets: b.Buckets,
			CallTimeout: time.Duration(b.CallTimeout).String(), Scope: b.Scope,
		}
	}
	return st
}

// encodeJSON writes v (summary.json, compare.json) as indented JSON with
// a final newline.
func encodeJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
