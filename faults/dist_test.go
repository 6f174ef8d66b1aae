package faults

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1))]
}

func samples(t *testing.T, spec DistSpec, n int) []time.Duration {
	t.Helper()
	d, err := newDist(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d.Sample(r)
	}
	slices.Sort(out)
	return out
}

// TestDistQuantiles checks sample quantiles against the configured ones
// (pure sampling, 200,000 draws). Tolerance: 2% of the median and 4% of
// the p99 (at this n the sampling error of the p99 is ~1%).
func TestDistQuantiles(t *testing.T) {
	const n = 200_000
	tests := []struct {
		name         string
		spec         DistSpec
		median, p99  time.Duration
		medTol, pTol float64
	}{
		{"lognormal 200ms/2s", DistSpec{Dist: "lognormal", Median: 200 * time.Millisecond, P99: 2 * time.Second},
			200 * time.Millisecond, 2 * time.Second, 0.02, 0.04},
		{"lognormal 1s/1.5s", DistSpec{Dist: "lognormal", Median: time.Second, P99: 1500 * time.Millisecond},
			time.Second, 1500 * time.Millisecond, 0.02, 0.04},
		{"normal 100ms±10ms", DistSpec{Dist: "normal", Mean: 100 * time.Millisecond, Stddev: 10 * time.Millisecond},
			100 * time.Millisecond, 123263479 * time.Nanosecond, 0.02, 0.04},
		{"uniform 100..300ms", DistSpec{Dist: "uniform", Min: 100 * time.Millisecond, Max: 300 * time.Millisecond},
			200 * time.Millisecond, 298 * time.Millisecond, 0.02, 0.04},
		{"fixed 50ms", DistSpec{Dist: "fixed", Value: 50 * time.Millisecond}, 50 * time.Millisecond, 50 * time.Millisecond, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := samples(t, tt.spec, n)
			med, p99 := quantile(s, 0.5), quantile(s, 0.99)
			em := math.Abs(float64(med-tt.median)) / float64(tt.median)
			ep := math.Abs(float64(p99-tt.p99)) / float64(tt.p99)
			t.Logf("median %v (want %v, error %.2f%%), p99 %v (want %v, error %.2f%%)", med, tt.median, 100*em, p99, tt.p99, 100*ep)
			if em > tt.medTol || ep > tt.pTol {
				t.Errorf("quantiles off: median error %.3f (tol %.3f), p99 error %.3f (tol %.3f)", em, tt.medTol, ep, tt.pTol)
			}
		})
	}
}

// TestDistClamp: every sample stays in [0, Cap]; Cap 0 means DefaultCap.
func TestDistClamp(t *testing.T) {
	for _, spec := range []DistSpec{
		{Dist: "normal", Mean: 0, Stddev: time.Second, Cap: 500 * time.Millisecond},
		{Dist: "lognormal", Median: time.Second, P99: time.Hour, Cap: 2 * time.Second},
		{Dist: "lognormal", Median: time.Minute, P99: 1000 * time.Hour},
		{Dist: "fixed", Value: time.Hour, Cap: time.Second},
		{Dist: "uniform", Min: 0, Max: time.Hour, Cap: time.Minute},
	} {
		c := spec.Cap
		if c == 0 {
			c = DefaultCap
		}
		s := samples(t, spec, 20_000)
		if s[0] < 0 || s[len(s)-1] > c {
			t.Errorf("%+v: samples in [%v, %v], want within [0, %v]", spec, s[0], s[len(s)-1], c)
		}
		if s[len(s)-1] != c {
			t.Errorf("%+v: the cap was never reached (max %v), clamping untested", spec, s[len(s)-1])
		}
	}
}

func TestParseDist(t *testing.T) {
	tests := []struct {
		in      string
		want    DistSpec
		wantErr bool
	}{
		{"", DistSpec{}, false},
		{"250ms", DistSpec{Dist: "fixed", Value: 250 * time.Millisecond}, false},
		{"fixed:1s", DistSpec{Dist: "fixed", Value: time.Second}, false},
		{"uniform:1s,2s", DistSpec{Dist: "uniform", Min: time.Second, Max: 2 * time.Second}, false},
		{"normal:1s,100ms,cap=3s", DistSpec{Dist: "normal", Mean: time.Second, Stddev: 100 * time.Millisecond, Cap: 3 * time.Second}, false},
		{"lognormal:200ms,2s", DistSpec{Dist: "lognormal", Median: 200 * time.Millisecond, P99: 2 * time.Second}, false},
		{"lognormal:2s,200ms", DistSpec{}, true},
		{"uniform:1s", DistSpec{}, true},
		{"pareto:1s", DistSpec{}, true},
		{"fixed:soon", DistSpec{}, true},
		{"soon", DistSpec{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDist(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDist(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
