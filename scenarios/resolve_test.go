package scenarios

import (
	"math"
	"testing"
	"time"
)

// varying is a three-phase timeline whose outage lasts uniform(60s, 150s)
// and starts up to 30s late.
func varying(seed int64) *Scenario {
	return &Scenario{Name: "v", Seed: seed, Phases: []Phase{
		{Name: "healthy", Duration: Duration(60 * time.Second)},
		{Name: "outage", DurationDist: &Dist{Dist: DistUniform, Min: Duration(60 * time.Second), Max: Duration(150 * time.Second)},
			StartJitter: Duration(30 * time.Second)},
		{Name: "recovery", Duration: Duration(90 * time.Second)},
	}}
}

func TestResolveSameSeedSameTimeline(t *testing.T) {
	a, b := varying(42).Resolve(), varying(42).Resolve()
	for i := range a.Phases {
		if a.Phases[i].Duration != b.Phases[i].Duration {
			t.Errorf("phase %d: %v and %v from the same seed", i, a.Phases[i].Duration, b.Phases[i].Duration)
		}
	}
	if a.Phases[1].DurationDist != nil || a.Phases[1].StartJitter != 0 {
		t.Errorf("resolved outage still has a distribution or jitter: %+v", a.Phases[1])
	}
	// Resolving a resolved scenario changes nothing.
	if c := a.Resolve(); c.TotalDuration() != a.TotalDuration() {
		t.Errorf("resolving twice: %v, then %v", a.TotalDuration(), c.TotalDuration())
	}
	// The original is left alone.
	s := varying(42)
	s.Resolve()
	if s.Phases[1].DurationDist == nil || s.Phases[1].StartJitter == 0 {
		t.Error("Resolve changed its receiver")
	}
}

func TestResolveSeedsDiffer(t *testing.T) {
	seen := map[Duration]bool{}
	for seed := range int64(10) {
		seen[varying(seed).Resolve().Phases[1].Duration] = true
	}
	if len(seen) < 9 {
		t.Errorf("10 seeds drew %d different outage lengths, want at least 9", len(seen))
	}
}

// TestResolveMatchesTheDistribution: over 4,000 seeds the mean outage
// length is within 4 standard errors of uniform(60s,150s)'s 105 s, every
// draw lies in [60s, 150s], the jitter's mean (what the healthy phase
// gains) is within 4 standard errors of 15 s, and the recovery phase keeps
// its length.
func TestResolveMatchesTheDistribution(t *testing.T) {
	const n = 4000
	var sum, jsum float64
	for seed := range int64(n) {
		r := varying(seed).Resolve()
		d := r.Phases[1].Duration.D()
		if d < 60*time.Second || d > 150*time.Second {
			t.Fatalf("seed %d: outage %v outside [60s, 150s]", seed, d)
		}
		j := r.Phases[0].Duration.D() - 60*time.Second
		if j < 0 || j > 30*time.Second {
			t.Fatalf("seed %d: jitter %v outside [0, 30s]", seed, j)
		}
		if r.Phases[2].Duration.D() != 90*time.Second {
			t.Fatalf("seed %d: recovery %v, want 90s", seed, r.Phases[2].Duration)
		}
		sum += d.Seconds()
		jsum += j.Seconds()
	}
	check := func(what string, mean, want, sd float64) {
		se := sd / math.Sqrt(n)
		if z := (mean - want) / se; math.Abs(z) > 4 {
			t.Errorf("%s: mean %.3f s over %d seeds, want %.1f s ± 4·%.3f", what, mean, n, want, se)
		}
	}
	check("outage", sum/n, 105, 90/math.Sqrt(12))
	check("jitter", jsum/n, 15, 30/math.Sqrt(12))
}

func TestDrawDurationLognormalMedian(t *testing.T) {
	// Half the draws of a lognormal fall below its median.
	const n = 4000
	below := 0
	for seed := range int64(n) {
		s := &Scenario{Seed: seed, Phases: []Phase{{Name: "p", DurationDist: &Dist{Dist: DistLognormal,
			Median: Duration(time.Minute), P99: Duration(5 * time.Minute), Cap: Duration(10 * time.Minute)}}}}
		d := s.Resolve().Phases[0].Duration.D()
		if d <= 0 || d > 10*time.Minute {
			t.Fatalf("seed %d: %v outside (0, cap]", seed, d)
		}
		if d < time.Minute {
			below++
		}
	}
	sd := math.Sqrt(n * 0.25)
	if z := (float64(below) - n/2) / sd; math.Abs(z) > 4 {
		t.Errorf("%d of %d draws below the median, want %d ± 4·%.1f", below, n, n/2, sd)
	}
}
