package sim

import (
	"brownout/assistant"
	"brownout/faults"
	"brownout/limits"
	"brownout/scenarios"
)

// MinScaledDuration is the shortest real duration that a time-compressed
// scenario may ask the machine to time; see [limits.MinScaledDuration].
const MinScaledDuration = limits.MinScaledDuration

// CheckTimeScale refuses a time scale that would push any duration or rate
// of sc out of what brownout can run (see [scenarios.Scenario.CheckTimeScale],
// the one rule that `brownout validate` also applies at the scenario's own
// time_scale), naming each field and the scale that would be accepted.
func CheckTimeScale(sc *scenarios.Scenario, k float64) error {
	return sc.CheckTimeScale(k)
}

// assistantConfig translates a (time-compressed) scenario into the
// assistant's configuration.
func assistantConfig(sc *scenarios.Scenario, upstreamURL string) assistant.Config {
	cfg := assistant.DefaultConfig()
	b := sc.Breaker
	cfg.Breaker.Enabled = b.Enabled
	cfg.Breaker.Policy = b.Policy
	cfg.Breaker.FailThreshold = uint32(b.FailThreshold)
	cfg.Breaker.FailureRatio = float64(b.FailureRatio)
	cfg.Breaker.MinRequests = uint32(b.MinRequests)
	cfg.Breaker.ResetTimeout = b.ResetTimeout.D()
	cfg.Breaker.HalfOpenMaxRequests = uint32(b.HalfOpenMaxRequests)
	cfg.Breaker.Interval = b.Interval.D()
	cfg.Breaker.Scope = b.Scope
	cfg.Breaker.Store = b.Store
	cfg.Breaker.Window = b.Window.D()
	cfg.Breaker.Buckets = uint32(b.Buckets)
	cfg.CallTimeout = b.CallTimeout.D()
	cfg.UpstreamURL = upstreamURL
	cfg.Model = faults.DefaultModel
	cfg.Token = ""
	a := sc.Assistant
	cfg.Mode = a.Mode
	cfg.TopK = a.TopK
	cfg.CacheSize = a.Cache.Size
	cfg.CacheTTL = a.Cache.TTL.D()
	cfg.ExcerptCount = a.Excerpts.Count
	cfg.ExcerptChars = a.Excerpts.Chars
	return cfg
}

// faultsConfig translates a (time-compressed) scenario into the fake
// server's timeline.
func faultsConfig(sc *scenarios.Scenario) faults.Config {
	cfg := faults.Config{Model: faults.DefaultModel, Seed: sc.Seed}
	for _, p := range sc.Phases {
		fp := faults.Phase{
			Name:        p.Name,
			Duration:    p.Duration.D(),
			TTFT:        distSpec(p.Upstream.Latency.TTFT),
			PerToken:    distSpec(p.Upstream.Latency.PerToken),
			Tokens:      p.Upstream.Tokens,
			Concurrency: p.Upstream.Capacity.Concurrency,
			Queue:       p.Upstream.Capacity.Queue,
		}
		for _, f := range p.Faults {
			fs := faults.FaultSpec{
				Kind:           f.Kind,
				First:          f.First,
				Every:          f.Every,
				After:          f.After,
				Code:           f.Code,
				Body:           f.Body,
				RetryAfter:     f.RetryAfter.D(),
				EstimatedTime:  f.EstimatedTime.D(),
				Duration:       f.Duration.D(),
				Mode:           f.Mode,
				ContentType:    f.ContentType,
				BytesPerSecond: f.BytesPerSecond,
				Tokens:         f.Tokens,
				Message:        f.Message,
			}
			if f.Rate != nil {
				r := float64(*f.Rate)
				fs.Rate = &r
			}
			if f.RateTo != nil {
				r := float64(*f.RateTo)
				fs.RateTo = &r
			}
			if f.Latency != nil {
				d := distSpec(*f.Latency)
				fs.Latency = &d
			}
			fp.Faults = append(fp.Faults, fs)
		}
		cfg.Phases = append(cfg.Phases, fp)
	}
	return cfg
}

func distSpec(d scenarios.Dist) faults.DistSpec {
	return faults.DistSpec{
		Dist:   d.Dist,
		Value:  d.Value.D(),
		Min:    d.Min.D(),
		Max:    d.Max.D(),
		Mean:   d.Mean.D(),
		Stddev: d.Stddev.D(),
		Median: d.Median.D(),
		P99:    d.P99.D(),
		Cap:    d.Cap.D(),
	}
}

// rateSegments turns the phases' load patterns into pacer segments.
func rateSegments(sc *scenarios.Scenario) []RateSegment {
	segs := make([]RateSegment, 0, len(sc.Phases))
	for _, p := range sc.Phases {
		r := p.Load.Rate
		segs = append(segs, RateSegment{
			Duration:  p.Duration.D(),
			Pattern:   r.Pattern,
			Rate:      r.Rate.PerSecond(),
			From:      r.From.PerSecond(),
			To:        r.To.PerSecond(),
			Mean:      r.Mean.PerSecond(),
			Amplitude: r.Amplitude.PerSecond(),
			Period:    r.Period.D(),
		})
	}
	return segs
}
