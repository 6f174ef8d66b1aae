package sim

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"brownout/assistant"
	"brownout/recording"
	"brownout/scenarios"
)

// header describes the run before it starts: the scenario, its phases in
// scenario time, the breakers and the versions of what plays it.
func (r *runner) header(sc *scenarios.Scenario, k float64) (recording.Header, error) {
	yaml, err := scenarios.Marshal(sc)
	if err != nil {
		return recording.Header{}, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	var spans []recording.PhaseSpan
	var at time.Duration
	for _, p := range sc.Phases {
		spans = append(spans, recording.PhaseSpan{Name: p.Name, Start: at, End: at + p.Duration.D()})
		at += p.Duration.D()
	}
	versions := map[string]string{"go": runtime.Version(), "brownout": r.version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/sony/gobreaker/v2":
				versions["gobreaker"] = d.Version
			case "github.com/tsenart/vegeta/v12":
				versions["vegeta"] = d.Version
			}
		}
	}
	if versions["brownout"] == "" {
		versions["brownout"] = "dev"
	}
	return recording.Header{
		Scenario:     sc.Name,
		Description:  sc.Description,
		ScenarioYAML: string(yaml),
		Seed:         sc.Seed,
		TimeScale:    k,
		StartedAt:    time.Now().UTC(),
		Phases:       spans,
		// Every request record carries its due time (PhasePacer.Due).
		IntendedTimes: true,
		Breakers:      breakerNames(sc),
		Versions:      versions,
	}, nil
}

// breakerNames are the breakers the assistant will run for sc.
func breakerNames(sc *scenarios.Scenario) []string {
	if !sc.Breaker.Enabled {
		return nil
	}
	name := assistant.DefaultConfig().Breaker.Name
	names := []string{name}
	if sc.Breaker.Scope == assistant.ScopePerEndpoint {
		names = []string{name + "." + assistant.EndpointChat, name + "." + assistant.EndpointText}
	}
	n := max(1, sc.Assistant.Replicas)
	var all []string
	for i := range n {
		for _, b := range names {
			all = append(all, replicaBreaker(b, i, n))
		}
	}
	return all
}
