package sweep

import (
	"fmt"
	"math"
)

// Paired compares two cells on one metric seed by seed. With --repeat every
// cell plays the same seeds, so each seed's incident (its drawn outage
// length, its faults) is played under both settings: the difference on one
// seed is the settings' doing, not the incident's, and the spread of those
// differences says how much the ranking can be trusted.
type Paired struct {
	Metric string
	// Seeds counts the seeds measured in both cells.
	Seeds int
	// Wins, Losses and Ties count the seeds on which the first cell did
	// better, worse, or the same within the objective's tolerance.
	Wins, Losses, Ties int
	// Advantage is the mean of the per-seed differences, in the metric's
	// unit, positive when the first cell is better; Spread is their
	// sample standard deviation. Both are NaN when a difference is
	// infinite (one cell never saw the event on some seed).
	Advantage, Spread float64
}

// pair compares a and b on o over the seeds both measured. ok is false
// when fewer than two seeds are shared: one seed is one incident, and
// says nothing about the spread.
func pair(a, b *Cell, o Objective) (p Paired, ok bool) {
	p = Paired{Metric: o.Metric}
	mi := metricIndex(o.Metric)
	if mi < 0 {
		return p, false
	}
	var diffs []float64
	for _, ra := range a.Runs {
		rb, found := runOfSeed(b, ra.Seed)
		if !found || mi >= len(ra.Values) || mi >= len(rb.Values) {
			continue
		}
		ka, kb := o.valueKey(ra.Values[mi]), o.valueKey(rb.Values[mi])
		if math.IsNaN(ka) || math.IsNaN(kb) {
			continue // not measured on this seed
		}
		p.Seeds++
		switch cmpFloat(ka, kb, o.Tolerance) {
		case -1:
			p.Wins++
		case 1:
			p.Losses++
		default:
			p.Ties++
		}
		diffs = append(diffs, kb-ka) // lower key is better: positive favours a
	}
	// Keys of higher-is-better metrics are negated values, so kb-ka is
	// the advantage in the metric's unit either way.
	p.Advantage, p.Spread = meanSD(diffs)
	return p, p.Seeds >= 2
}

// verdict decides the pair: -1 when the first cell is better, 1 when the
// second is, 0 for a tie. The first cell wins when it is never worse and
// better on at least one seed, or, when the seeds disagree, when its mean
// advantage exceeds the spread of the differences; a difference within
// the seeds' spread is a tie.
func (p Paired) verdict() int {
	switch {
	case p.Wins == 0 && p.Losses == 0:
		return 0
	case p.Losses == 0:
		return -1
	case p.Wins == 0:
		return 1
	case math.IsNaN(p.Advantage) || math.Abs(p.Advantage) <= p.Spread:
		return 0
	case p.Advantage > 0:
		return -1
	}
	return 1
}

// String says how the first cell fared, e.g. "better on 4 of 5 seeds,
// worse on 1 (mean advantage 8 s, spread 5 s)".
func (p Paired) String() string {
	s := fmt.Sprintf("better on %d of %d seeds", p.Wins, p.Seeds)
	if p.Losses > 0 {
		s += fmt.Sprintf(", worse on %d", p.Losses)
	}
	if p.Ties > 0 {
		s += fmt.Sprintf(", level on %d", p.Ties)
	}
	if !math.IsNaN(p.Advantage) && p.Wins+p.Losses > 0 {
		s += fmt.Sprintf(" (mean advantage %s, spread %s)", FormatValue(p.Metric, p.Advantage), FormatValue(p.Metric, p.Spread))
	}
	return s
}

// valueKey is one run's value on o, signed so that lower is better, with
// "never" ranking worst and NaN for a value not measured.
func (o Objective) valueKey(v Value) float64 {
	switch {
	case v.Never:
		return math.Inf(1)
	case o.HigherIsBetter:
		return -v.V
	}
	return v.V
}

// runOfSeed finds c's run with seed.
func runOfSeed(c *Cell, seed int64) (RunResult, bool) {
	for _, r := range c.Runs {
		if r.Seed == seed {
			return r, true
		}
	}
	return RunResult{}, false
}

// metricIndex is metric's index in MetricNames, or -1.
func metricIndex(metric string) int {
	for i, m := range MetricNames {
		if m == metric {
			return i
		}
	}
	return -1
}

// meanSD returns the mean and the sample standard deviation of xs (0 for
// one value); NaN for both when xs is empty or holds an infinity.
func meanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return math.NaN(), math.NaN()
		}
		sum += x
	}
	mean = sum / float64(len(xs))
	if len(xs) == 1 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}
