package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/goccy/go-yaml"
)

// Marshal renders the effective scenario (defaults applied) as YAML that
// Parse reads back to an equal Scenario. Phases show only the load and
// upstream keys that differ from the scenario's, as a user would write
// them. `brownout validate --print` shows it, and run records store it.
func Marshal(s *Scenario) ([]byte, error) {
	root := yaml.MapSlice{
		{Key: "name", Value: s.Name},
		{Key: "description", Value: s.Description},
		{Key: "seed", Value: s.Seed},
		{Key: "time_scale", Value: s.TimeScale}, // dropped below when 0 (auto)
		{Key: "breaker", Value: plainMap(&s.Breaker)},
		{Key: "assistant", Value: yaml.MapSlice{
			{Key: "mode", Value: s.Assistant.Mode},
			{Key: "replicas", Value: s.Assistant.Replicas},
			{Key: "top_k", Value: s.Assistant.TopK},
			{Key: "cache", Value: plainMap(&s.Assistant.Cache)},
			{Key: "excerpts", Value: plainMap(&s.Assistant.Excerpts)},
		}},
		{Key: "load", Value: loadMap(&s.Load, nil)},
		{Key: "upstream", Value: upstreamMap(&s.Upstream, nil)},
	}
	if s.TimeScale == 0 {
		root = append(root[:3], root[4:]...)
	}
	phases := make([]yaml.MapSlice, 0, len(s.Phases))
	for i := range s.Phases {
		p := &s.Phases[i]
		var dur any = p.Duration.String()
		if p.DurationDist != nil {
			dur = distMap(p.DurationDist)
		}
		m := yaml.MapSlice{{Key: "name", Value: p.Name}, {Key: "duration", Value: dur}}
		if p.StartJitter != 0 {
			m = append(m, yaml.MapItem{Key: "start_jitter", Value: p.StartJitter.String()})
		}
		if l := loadMap(&p.Load, &s.Load); len(l) > 0 {
			m = append(m, yaml.MapItem{Key: "load", Value: l})
		}
		if u := upstreamMap(&p.Upstream, &s.Upstream); len(u) > 0 {
			m = append(m, yaml.MapItem{Key: "upstream", Value: u})
		}
		if len(p.Faults) > 0 {
			faults := make([]yaml.MapSlice, len(p.Faults))
			for j := range p.Faults {
				faults[j] = faultMap(&p.Faults[j])
			}
			m = append(m, yaml.MapItem{Key: "faults", Value: faults})
		}
		phases = append(phases, m)
	}
	root = append(root, yaml.MapItem{Key: "phases", Value: phases})
	if len(s.IgnoreWarnings) > 0 {
		root = append(root, yaml.MapItem{Key: "ignore_warnings", Value: s.IgnoreWarnings})
	}
	if len(s.Thresholds) > 0 {
		ths := make(yaml.MapSlice, 0, len(s.Thresholds))
		for _, th := range s.Thresholds {
			conds := make([]string, len(th.Conditions))
			for i, c := range th.Conditions {
				conds[i] = conditionString(c, Metrics[th.Metric])
			}
			ths = append(ths, yaml.MapItem{Key: th.Key, Value: conds})
		}
		root = append(root, yaml.MapItem{Key: "thresholds", Value: ths})
	}
	if t := s.Target; t != nil {
		root = append(root, yaml.MapItem{Key: "target", Value: targetMap(t)})
	}
	out, err := yaml.MarshalWithOptions(root, yaml.Indent(2), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, fmt.Errorf("marshal scenario %q: %w", s.Name, err)
	}
	return out, nil
}

// yamlValue converts a field value to what the YAML encoder should write.
func yamlValue(v any) any {
	switch x := v.(type) {
	case Duration:
		return x.String()
	case Rate:
		return x.String()
	case Ratio:
		return float64(x)
	case *Ratio:
		return float64(*x)
	case RateSpec:
		return rateSpecValue(&x)
	case Dist:
		return distMap(&x)
	case *Dist:
		return distMap(x)
	}
	return v
}

// plainMap renders every field of a flat settings struct, in order.
func plainMap(p any) yaml.MapSlice {
	var m yaml.MapSlice
	for _, f := range fieldValues(p) {
		m = append(m, yaml.MapItem{Key: f.name, Value: yamlValue(f.value)})
	}
	return m
}

func rateSpecValue(rs *RateSpec) any {
	if rs.Pattern == PatternConstant {
		return rs.Rate.String()
	}
	m := yaml.MapSlice{{Key: "pattern", Value: rs.Pattern}}
	for _, f := range fieldValues(rs) {
		if slices.Contains(rateParams[rs.Pattern], f.name) {
			m = append(m, yaml.MapItem{Key: f.name, Value: yamlValue(f.value)})
		}
	}
	return m
}

func distMap(ds *Dist) yaml.MapSlice {
	m := yaml.MapSlice{{Key: "dist", Value: ds.Dist}}
	for _, f := range fieldValues(ds) {
		if f.name == "dist" || !slices.Contains(distParams[ds.Dist], f.name) || (f.name == "cap" && ds.Cap == 0) {
			continue
		}
		m = append(m, yaml.MapItem{Key: f.name, Value: yamlValue(f.value)})
	}
	return m
}

// loadMap renders a load; with a base, only the keys that differ from it.
func loadMap(l, base *LoadSpec) yaml.MapSlice {
	var m yaml.MapSlice
	add := func(key string, differs bool, v any) {
		if base == nil || differs {
			m = append(m, yaml.MapItem{Key: key, Value: yamlValue(v)})
		}
	}
	var b LoadSpec
	if base != nil {
		b = *base
	}
	add("rate", l.Rate != b.Rate, l.Rate)
	add("queries", l.Queries != b.Queries, l.Queries)
	add("repeat_ratio", l.RepeatRatio != b.RepeatRatio, l.RepeatRatio)
	add("timeout", l.Timeout != b.Timeout, l.Timeout)
	add("max_workers", l.MaxWorkers != b.MaxWorkers, l.MaxWorkers)
	return m
}

// upstreamMap renders an upstream; with a base, only the keys that differ.
func upstreamMap(u, base *Upstream) yaml.MapSlice {
	var b Upstream
	if base != nil {
		b = *base
	}
	all := base == nil
	var lat, capm, m yaml.MapSlice
	if all || u.Latency.TTFT != b.Latency.TTFT {
		lat = append(lat, yaml.MapItem{Key: "ttft", Value: distMap(&u.Latency.TTFT)})
	}
	if all || u.Latency.PerToken != b.Latency.PerToken {
		lat = append(lat, yaml.MapItem{Key: "per_token", Value: distMap(&u.Latency.PerToken)})
	}
	if len(lat) > 0 {
		m = append(m, yaml.MapItem{Key: "latency", Value: lat})
	}
	if all || u.Tokens != b.Tokens {
		m = append(m, yaml.MapItem{Key: "tokens", Value: u.Tokens})
	}
	if all || u.Capacity.Concurrency != b.Capacity.Concurrency {
		capm = append(capm, yaml.MapItem{Key: "concurrency", Value: u.Capacity.Concurrency})
	}
	if all || u.Capacity.Queue != b.Capacity.Queue {
		capm = append(capm, yaml.MapItem{Key: "queue", Value: u.Capacity.Queue})
	}
	if len(capm) > 0 {
		m = append(m, yaml.MapItem{Key: "capacity", Value: capm})
	}
	return m
}

// faultMap renders a fault's kind and the fields it sets.
func faultMap(f *Fault) yaml.MapSlice {
	var m yaml.MapSlice
	for _, fv := range fieldValues(f) {
		if fv.name != "kind" && fv.zero {
			continue
		}
		if fv.name == "rate" && f.RateTo != nil {
			var from Ratio
			if f.Rate != nil {
				from = *f.Rate
			}
			m = append(m, yaml.MapItem{Key: "rate", Value: yaml.MapSlice{{Key: "from", Value: float64(from)}, {Key: "to", Value: float64(*f.RateTo)}}})
			continue
		}
		m = append(m, yaml.MapItem{Key: fv.name, Value: yamlValue(fv.value)})
	}
	return m
}

// conditionString renders a condition so that it parses back to the same
// value: as written when known, else from the value in the metric's unit.
func conditionString(c Condition, u Unit) string {
	if c.Raw != "" {
		return c.Raw
	}
	var v string
	switch u {
	case UnitDuration:
		v = time.Duration(math.Round(c.Value * float64(time.Second))).String()
	case UnitRate:
		v = strconv.FormatFloat(c.Value, 'g', -1, 64) + "/s"
	default:
		v = strconv.FormatFloat(c.Value, 'g', -1, 64)
	}
	return c.Op + " " + v
}

// targetMap writes a target's keys that are set, env in name order.
func targetMap(t *Target) yaml.MapSlice {
	m := yaml.MapSlice{{Key: "command", Value: t.Command}}
	if len(t.Env) > 0 {
		env := make(yaml.MapSlice, 0, len(t.Env))
		for _, k := range slices.Sorted(maps.Keys(t.Env)) {
			env = append(env, yaml.MapItem{Key: k, Value: t.Env[k]})
		}
		m = append(m, yaml.MapItem{Key: "env", Value: env})
	}
	for _, kv := range [][2]string{{"upstream_env", t.UpstreamEnv}, {"url", t.URL}, {"ready", t.Ready}, {"query", t.Query}, {"health", t.Health}} {
		if kv[1] != "" {
			m = append(m, yaml.MapItem{Key: kv[0], Value: kv[1]})
		}
	}
	return m
}
