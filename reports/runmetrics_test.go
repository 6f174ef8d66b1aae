package reports

import (
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// TestMetricTableComplete checks that every metric of scenarios.MetricTable
// has a computation here and that nothing here is missing from the table,
// so adding a metric is one table entry and one computation.
func TestMetricTableComplete(t *testing.T) {
	for _, m := range scenarios.MetricTable {
		d, ok := metricDefs[m.Name]
		if !ok {
			t.Errorf("metric %s of scenarios.MetricTable has no computation in metricDefs", m.Name)
			continue
		}
		if (d.family == famRun) != (m.Scope != scenarios.ScopeFiltered) {
			t.Errorf("metric %s: scope %v in the table, family %v here", m.Name, m.Scope, d.family)
		}
		fns := 0
		for _, set := range []bool{d.request != nil, d.upstream != nil, d.breaker != nil, d.run != nil, d.load != nil} {
			if set {
				fns++
			}
		}
		if fns != 1 {
			t.Errorf("metric %s: %d computations, want exactly one", m.Name, fns)
		}
	}
	for name := range metricDefs {
		if _, ok := scenarios.LookupMetric(name); !ok {
			t.Errorf("metricDefs computes %s, which scenarios.MetricTable does not list", name)
		}
	}
}

func TestTimeToCloseRecovery(t *testing.T) {
	sc, err := scenarios.Builtin("hard-outage") // healthy 60s, outage 90s (faults), recovery 120s
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	phases := []recording.PhaseSpan{{Name: "healthy", Start: 0, End: 60 * s}, {Name: "outage", Start: 60 * s, End: 150 * s}, {Name: "recovery", Start: 150 * s, End: 270 * s}}
	tr := func(at time.Duration, from, to contract.State) recording.Transition {
		return recording.Transition{T: at, Breaker: "b", From: from, To: to}
	}
	tests := []struct {
		name  string
		trs   []recording.Transition
		want  float64
		never bool
	}{
		{"closes 20s into recovery", []recording.Transition{
			tr(61*s, "closed", "open"), tr(121*s, "open", "half-open"), tr(121*s, "half-open", "open"),
			tr(170*s, "open", "half-open"), tr(171*s, "half-open", "closed")}, 21, false},
		{"never opened", nil, 0, false},
		{"closed again before recovery", []recording.Transition{tr(61*s, "closed", "open"), tr(100*s, "open", "closed")}, 0, false},
		{"stays open", []recording.Transition{tr(61*s, "closed", "open")}, 0, true},
		{"relapses then closes", []recording.Transition{
			tr(61*s, "closed", "open"), tr(155*s, "open", "half-open"), tr(156*s, "half-open", "open"),
			tr(200*s, "open", "half-open"), tr(201*s, "half-open", "closed")}, 51, false},
	}
	for _, tc := range tests {
		got, ok := timeToCloseRecovery(sc, phases, tc.trs)
		if ok == tc.never || (!tc.never && got != tc.want) {
			t.Errorf("%s: got %v (ok %v), want %v (never %v)", tc.name, got, ok, tc.want, tc.never)
		}
	}
}
