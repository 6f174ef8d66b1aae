package sweep

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Objective is one criterion for ranking passing cells: a metric of
// MetricNames and its direction.
type Objective struct {
	Metric         string
	HigherIsBetter bool
	// Tolerance is the difference, in the metric's base unit, below which
	// two values tie and the next criterion decides. Run sets it for
	// duration metrics to the timing resolution of the sweep
	// (sim.MinScaledDuration × the time scale, in seconds): a smaller
	// difference is noise, not the breaker.
	Tolerance float64
}

// String describes the criterion, e.g. "least time_to_close_recovery
// (ties within 250ms)".
func (o Objective) String() string {
	s := "least " + o.Metric
	if o.HigherIsBetter {
		s = "most " + o.Metric
	}
	if o.Tolerance > 0 {
		s += " (ties within " + FormatValue(o.Metric, o.Tolerance) + ")"
	}
	return s
}

// DefaultObjective ranks passing cells by the least time to close after
// recovery (users back on the upstream soonest), then the fewest upstream
// failures (least load sent to the failing upstream).
var DefaultObjective = []Objective{
	{Metric: TimeToCloseRecovery},
	{Metric: "upstream_failures"},
}

// ParseObjective reads a comma-separated list of metrics, most important
// first, e.g. "latency_p99" or "upstream_failures,time_to_close". Each
// metric's direction comes from HigherIsBetter. "time_to_close" stands for
// time_to_close_recovery (the whole-run time_to_close measures from the
// start of the run, which says nothing about recovery). The default
// objective's metrics follow as tie-breakers unless listed already.
func ParseObjective(s string) ([]Objective, error) {
	var out []Objective
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		m := strings.TrimSpace(f)
		if m == "time_to_close" {
			m = TimeToCloseRecovery
		}
		if !KnownMetric(m) {
			return nil, fmt.Errorf("objective %q: unknown metric (want one of %s)", strings.TrimSpace(f), strings.Join(MetricNames, ", "))
		}
		if seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, Objective{Metric: m, HigherIsBetter: HigherIsBetter(m)})
	}
	for _, o := range DefaultObjective {
		if !seen[o.Metric] {
			out = append(out, o)
		}
	}
	return out, nil
}

// Recommendation is the sweep's advice: the best passing cell by the
// objective and its runner-up, or, when no cell passes, what fails.
type Recommendation struct {
	Objective []Objective
	// Ranked lists the passing cells, best first.
	Ranked []string
	// Best and RunnerUp name the two best passing cells ("" if none).
	Best, RunnerUp string
	// Why explains the choice in a sentence or two.
	Why string
	// Judged counts the cells that finished and were judged.
	Judged int
	// FailingEverywhere lists, when no cell passes, the threshold
	// conditions that fail in every judged cell.
	FailingEverywhere []string
	// Closest names, when no cell passes, the cell failing the fewest
	// threshold conditions (ties broken by the objective).
	Closest string
	// Paired is the seed-by-seed comparison of Best and RunnerUp on the
	// criterion that decided between them (the last one when they tie on
	// all); nil with one seed or no runner-up.
	Paired *Paired
	// Sureness says in one sentence how sure the recommendation is, from
	// Paired; "" when there is no runner-up to be sure against.
	Sureness string
}

// key is the value c is ranked by on o, signed so that lower is better; a
// cell whose value is missing or "never" ranks worst.
func (o Objective) key(c *Cell) float64 {
	s, _ := c.Stat(o.Metric)
	v := s.rankValue(o.HigherIsBetter)
	if o.HigherIsBetter {
		return -v
	}
	return v
}

// cmp orders two cells on o: negative when a is better, 0 when they tie.
// With two or more shared seeds the cells are compared seed by seed (see
// Paired.verdict), so a difference within the seeds' spread is a tie;
// with one seed, by their values within the tolerance.
func (o Objective) cmp(a, b *Cell) int {
	if p, ok := pair(a, b, o); ok {
		return p.verdict()
	}
	return cmpFloat(o.key(a), o.key(b), o.Tolerance)
}

// compare orders two cells by the objective: negative when a is better.
// Ties fall through to the next objective; a cell whose value is missing
// or "never" ranks worst on that criterion.
func compare(a, b *Cell, obj []Objective) int {
	for _, o := range obj {
		if d := o.cmp(a, b); d != 0 {
			return d
		}
	}
	// Level seed by seed on every criterion: list by the means, so the
	// order is still the means' where the seeds cannot tell.
	for _, o := range obj {
		if d := cmpFloat(o.key(a), o.key(b), o.Tolerance); d != 0 {
			return d
		}
	}
	return 0
}

// cmpFloat compares with an absolute tolerance tol and a relative one of
// 1e-9, so means that differ only by floating-point noise tie.
func cmpFloat(a, b, tol float64) int {
	if a == b || (!math.IsInf(a, 0) && !math.IsInf(b, 0) && math.Abs(a-b) <= max(tol, 1e-9*math.Max(math.Abs(a), math.Abs(b)))) {
		return 0
	}
	if a < b {
		return -1
	}
	return 1
}

// Recommend ranks the cells that finished and passed every threshold by
// the objective (ties keep grid order) and explains the winner against its
// runner-up. When none passes, it names the thresholds that fail in every
// judged cell and the cell that comes closest.
func Recommend(cells []Cell, obj []Objective) Recommendation {
	rec := Recommendation{Objective: obj}
	var judged, passing []*Cell
	for i := range cells {
		c := &cells[i]
		if c.Status != CellDone {
			continue
		}
		judged = append(judged, c)
		if c.Passed {
			passing = append(passing, c)
		}
	}
	rec.Judged = len(judged)
	sort.SliceStable(passing, func(i, j int) bool { return compare(passing[i], passing[j], obj) < 0 })
	for _, c := range passing {
		rec.Ranked = append(rec.Ranked, c.Name)
	}
	switch {
	case len(judged) == 0:
		rec.Why = "no cell finished, so there is nothing to recommend"
	case len(passing) == 0:
		rec.noPass(judged, obj)
	case len(passing) == 1:
		rec.Best = passing[0].Name
		rec.Why = fmt.Sprintf("%s is the only cell of %d that passes every threshold (%s).",
			rec.Best, len(judged), describe(passing[0], obj))
	default:
		best, next := passing[0], passing[1]
		rec.Best, rec.RunnerUp = best.Name, next.Name
		rec.Why = fmt.Sprintf("%d of %d cells pass every threshold. %s", len(passing), len(judged), why(best, next, obj))
		rec.Paired, rec.Sureness = sureness(best, next, obj)
	}
	return rec
}

// sureness compares best and next seed by seed on the criterion that
// decides between them and says in one sentence how sure the choice is.
func sureness(best, next *Cell, obj []Objective) (*Paired, string) {
	var last Paired
	for _, o := range obj {
		p, ok := pair(best, next, o)
		if !ok {
			return nil, "How sure: not measured: each setting played one seed, that is one incident; rerun with --repeat 5 to see whether the choice holds across incidents."
		}
		last = p
		if p.verdict() == 0 {
			continue
		}
		var s string
		switch {
		case p.Losses == 0 && p.Wins == p.Seeds:
			s = fmt.Sprintf("How sure: confident: %s beat %s on %s on every one of the %d seeds.", best.Name, next.Name, o.Metric, p.Seeds)
		case p.Losses == 0:
			s = fmt.Sprintf("How sure: fairly: %s beat %s on %s on %d of %d seeds and was level on the others.", best.Name, next.Name, o.Metric, p.Wins, p.Seeds)
		default:
			s = fmt.Sprintf("How sure: somewhat: %s beat %s on %s on %d of %d seeds but lost on %d; its mean advantage (%s) exceeds the seeds' spread (%s).",
				best.Name, next.Name, o.Metric, p.Wins, p.Seeds, p.Losses, FormatValue(o.Metric, p.Advantage), FormatValue(o.Metric, p.Spread))
		}
		return &p, s
	}
	return &last, fmt.Sprintf("How sure: not at all: %s and %s are level within the seeds' spread on every criterion over %d seeds, so either fits these incidents; choose between them on other grounds.",
		best.Name, next.Name, last.Seeds)
}

// why explains how best beats the runner-up: the first objective on which
// they differ, or grid order when they tie on every one.
func why(best, next *Cell, obj []Objective) string {
	for i, o := range obj {
		if o.cmp(best, next) == 0 {
			continue
		}
		sb, _ := best.Stat(o.Metric)
		sn, _ := next.Stat(o.Metric)
		tie := ""
		if i > 0 {
			var ties []string
			for _, p := range obj[:i] {
				ties = append(ties, tieText(best, next, p))
			}
			tie = fmt.Sprintf("They tie on %s; ", strings.Join(ties, " and "))
		}
		more := "less"
		if o.HigherIsBetter {
			more = "more"
		}
		seeds := ""
		if p, ok := pair(best, next, o); ok {
			seeds = fmt.Sprintf("; seed by seed, %s was %s", best.Name, p)
		}
		out := fmt.Sprintf("%s%s has %s %s (%s) than the runner-up %s (%s)%s.",
			tie, best.Name, more, o.Metric, formatStat(o.Metric, sb), next.Name, formatStat(o.Metric, sn), seeds)
		// The trade-off: later criteria on which the runner-up does better.
		var trade []string
		for _, p := range obj[i+1:] {
			if p.cmp(next, best) < 0 {
				pb, _ := best.Stat(p.Metric)
				pn, _ := next.Stat(p.Metric)
				trade = append(trade, fmt.Sprintf("%s %s against %s", p.Metric, formatStat(p.Metric, pn), formatStat(p.Metric, pb)))
			}
		}
		if len(trade) > 0 {
			out += fmt.Sprintf(" The runner-up does better on %s, which ranks lower in the objective.", strings.Join(trade, " and "))
		}
		return out
	}
	if _, ok := pair(best, next, obj[0]); ok {
		ties := make([]string, len(obj))
		for i, o := range obj {
			ties[i] = tieText(best, next, o)
		}
		return fmt.Sprintf("%s and the runner-up %s are level on every objective: %s; either will do, %s is listed first by the means.",
			best.Name, next.Name, strings.Join(ties, "; "), best.Name)
	}
	return fmt.Sprintf("%s and the runner-up %s tie on every objective (%s); %s comes first in grid order.",
		best.Name, next.Name, describe(best, obj), best.Name)
}

// tieText describes two cells that tie on o: one value, two values within
// the timing resolution, or, seed by seed, a difference within the seeds'
// spread.
func tieText(best, next *Cell, o Objective) string {
	s, _ := best.Stat(o.Metric)
	n, _ := next.Stat(o.Metric)
	a, b := formatStat(o.Metric, s), formatStat(o.Metric, n)
	if p, ok := pair(best, next, o); ok {
		return fmt.Sprintf("%s (%s and %s; seed by seed, %s was %s: within the seeds' spread)", o.Metric, a, b, best.Name, p)
	}
	if a == b {
		return fmt.Sprintf("%s %s", o.Metric, a)
	}
	return fmt.Sprintf("%s (%s and %s, within the %s timing resolution)", o.Metric, a, b, FormatValue(o.Metric, o.Tolerance))
}

// describe lists a cell's values of the objective's metrics.
func describe(c *Cell, obj []Objective) string {
	var parts []string
	for _, o := range obj {
		s, _ := c.Stat(o.Metric)
		parts = append(parts, fmt.Sprintf("%s %s", o.Metric, formatStat(o.Metric, s)))
	}
	return strings.Join(parts, ", ")
}

// noPass fills in what fails when no judged cell passes.
func (rec *Recommendation) noPass(judged []*Cell, obj []Objective) {
	fails := map[string]int{}
	var order []string
	for _, c := range judged {
		for _, name := range c.Failed() {
			if fails[name] == 0 {
				order = append(order, name)
			}
			fails[name]++
		}
	}
	for _, name := range order {
		if fails[name] == len(judged) {
			rec.FailingEverywhere = append(rec.FailingEverywhere, name)
		}
	}
	closest := judged[0]
	for _, c := range judged[1:] {
		nc, nb := len(c.Failed()), len(closest.Failed())
		if nc < nb || (nc == nb && compare(c, closest, obj) < 0) {
			closest = c
		}
	}
	rec.Closest = closest.Name
	if len(rec.FailingEverywhere) > 0 {
		rec.Why = fmt.Sprintf("No cell of %d passes every threshold. Failing in every cell: %s. No setting in this grid fixes that; widen the grid or revisit the threshold. Closest: %s, failing %s.",
			len(judged), strings.Join(rec.FailingEverywhere, "; "), closest.Name, strings.Join(closest.Failed(), "; "))
		return
	}
	rec.Why = fmt.Sprintf("No cell of %d passes every threshold, but no threshold fails in every cell: the grid trades one failure for another. Closest: %s, failing %s.",
		len(judged), closest.Name, strings.Join(closest.Failed(), "; "))
}
