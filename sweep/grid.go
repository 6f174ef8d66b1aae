// Package sweep plays one scenario over a grid of breaker settings — fail
// thresholds × reset timeouts, optionally policies, failure ratios and
// half-open limits — and shows the trade-off between them: every cell is a
// full, independent run recorded like `brownout run`, and the sweep writes
// heatmaps, a table of every metric and verdict per cell (CSV and JSON),
// and a Markdown report that recommends the best passing cell.
package sweep

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"brownout/scenarios"

	"brownout/limits"
)

// Grid is the set of breaker settings a sweep plays. FailThresholds and
// ResetTimeouts are its two main axes (the rows and columns of every
// heatmap); the optional axes multiply the rows. An empty optional axis
// keeps the scenario's own value and does not show in cell names.
type Grid struct {
	FailThresholds []int
	ResetTimeouts  []time.Duration
	Policies       []string  // optional: "consecutive", "ratio"
	FailureRatios  []float64 // optional: fractions in (0, 1]
	HalfOpenMax    []int     // optional: requests let through while half-open
}

// Settings are the breaker settings of one cell. Zero values of the
// optional fields (Policy "", FailureRatio 0, HalfOpenMax 0) keep the
// scenario's own value.
type Settings struct {
	FailThreshold int
	ResetTimeout  time.Duration
	Policy        string
	FailureRatio  float64
	HalfOpenMax   int
}

// Name is the cell's stable, file-system-safe name, e.g. "ft5-rt30s" or,
// with optional axes, "ft5-rt30s-ratio-fr50-hom2". It names the cell's
// folder under DIR/cells.
func (s Settings) Name() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ft%d-rt%s", s.FailThreshold, shortDuration(s.ResetTimeout))
	if s.Policy != "" {
		b.WriteString("-" + s.Policy)
	}
	if s.FailureRatio != 0 {
		b.WriteString("-fr" + strconv.FormatFloat(s.FailureRatio*100, 'f', -1, 64))
	}
	if s.HalfOpenMax != 0 {
		b.WriteString("-hom" + strconv.Itoa(s.HalfOpenMax))
	}
	return b.String()
}

// Apply returns a deep copy of sc with the cell's settings and the given
// seed, validated.
func (s Settings) Apply(sc *scenarios.Scenario, seed int64) (*scenarios.Scenario, error) {
	c := sc.Scaled(1) // a deep copy
	c.Seed = seed
	c.Breaker.FailThreshold = s.FailThreshold
	c.Breaker.ResetTimeout = scenarios.Duration(s.ResetTimeout)
	if s.Policy != "" {
		c.Breaker.Policy = s.Policy
	}
	if s.FailureRatio != 0 {
		c.Breaker.FailureRatio = scenarios.Ratio(s.FailureRatio)
	}
	if s.HalfOpenMax != 0 {
		c.Breaker.HalfOpenMaxRequests = s.HalfOpenMax
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("cell %s: %w", s.Name(), err)
	}
	return c, nil
}

// shortDuration writes d compactly for names and labels: "30s", "90s",
// "500ms", "1.5s".
func shortDuration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d != 0 && d%time.Millisecond == 0 && d < time.Second:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d > time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	return d.String()
}

// Validate checks every axis: at least one fail threshold and one reset
// timeout, values in range, and no value twice (two cells would share a
// folder).
func (g Grid) Validate() error {
	var errs []error
	if len(g.FailThresholds) == 0 {
		errs = append(errs, errors.New("fail thresholds: need at least one"))
	}
	if len(g.ResetTimeouts) == 0 {
		errs = append(errs, errors.New("reset timeouts: need at least one"))
	}
	for _, v := range g.FailThresholds {
		if v < limits.MinFailThreshold || v > limits.MaxFailThreshold {
			errs = append(errs, fmt.Errorf("fail threshold %d: want %d to %d", v, limits.MinFailThreshold, limits.MaxFailThreshold))
		}
	}
	for _, v := range g.ResetTimeouts {
		if v <= 0 || v > limits.MaxResetTimeout {
			errs = append(errs, fmt.Errorf("reset timeout %v: want more than 0 and at most %v", v, limits.MaxResetTimeout))
		}
	}
	for _, v := range g.Policies {
		if v != scenarios.PolicyConsecutive && v != scenarios.PolicyRatio {
			errs = append(errs, fmt.Errorf("policy %q: want consecutive or ratio", v))
		}
	}
	for _, v := range g.FailureRatios {
		if !(v > 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("failure ratio %v: must be in (0, 1]", v))
		}
	}
	for _, v := range g.HalfOpenMax {
		if v < limits.MinHalfOpen || v > limits.MaxHalfOpen {
			errs = append(errs, fmt.Errorf("half-open max %d: want %d to %d", v, limits.MinHalfOpen, limits.MaxHalfOpen))
		}
	}
	errs = append(errs, dupes("fail threshold", g.FailThresholds), dupes("reset timeout", g.ResetTimeouts),
		dupes("policy", g.Policies), dupes("failure ratio", g.FailureRatios), dupes("half-open max", g.HalfOpenMax))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sweep grid: %w", err)
	}
	return nil
}

func dupes[T comparable](what string, vs []T) error {
	seen := map[T]bool{}
	for _, v := range vs {
		if seen[v] {
			return fmt.Errorf("%s %v: given twice", what, v)
		}
		seen[v] = true
	}
	return nil
}

// orDefault returns vs, or a single zero value (keep the scenario's) when
// vs is empty.
func orDefault[T any](vs []T) []T {
	if len(vs) == 0 {
		var zero T
		return []T{zero}
	}
	return vs
}

// Cells lists every cell of the grid in a stable order: rows (policy,
// failure ratio, half-open max, fail threshold, outermost first), then
// reset timeouts within a row.
func (g Grid) Cells() []Settings {
	var out []Settings
	for _, row := range g.rows() {
		for _, rt := range g.ResetTimeouts {
			s := row
			s.ResetTimeout = rt
			out = append(out, s)
		}
	}
	return out
}

// rows are the cells' settings without the reset timeout, in grid order.
func (g Grid) rows() []Settings {
	var out []Settings
	for _, p := range orDefault(g.Policies) {
		for _, fr := range orDefault(g.FailureRatios) {
			for _, hom := range orDefault(g.HalfOpenMax) {
				for _, ft := range g.FailThresholds {
					out = append(out, Settings{FailThreshold: ft, Policy: p, FailureRatio: fr, HalfOpenMax: hom})
				}
			}
		}
	}
	return out
}

// RowLabels label the heatmap rows: "ft 5", with the optional axes in
// front when the grid has them ("ratio fr 50% hom 2 ft 5").
func (g Grid) RowLabels() []string {
	var out []string
	for _, r := range g.rows() {
		var parts []string
		if r.Policy != "" {
			parts = append(parts, r.Policy)
		}
		if r.FailureRatio != 0 {
			parts = append(parts, "fr "+strconv.FormatFloat(r.FailureRatio*100, 'f', -1, 64)+"%")
		}
		if r.HalfOpenMax != 0 {
			parts = append(parts, "hom "+strconv.Itoa(r.HalfOpenMax))
		}
		parts = append(parts, "ft "+strconv.Itoa(r.FailThreshold))
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// ColLabels label the heatmap columns: the reset timeouts ("rt 30s").
func (g Grid) ColLabels() []string {
	out := make([]string, len(g.ResetTimeouts))
	for i, rt := range g.ResetTimeouts {
		out[i] = "rt " + shortDuration(rt)
	}
	return out
}
