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

	"brownout/limits"
	"brownout/scenarios"
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
	// Windows (optional) sweeps the rolling window, 0 meaning none; a
	// positive one clears the scenario's interval. Intervals (optional)
	// sweeps the fixed window, 0 meaning counts never cleared; a positive
	// one clears the scenario's window. A grid takes one of the two.
	Windows   []time.Duration
	Intervals []time.Duration
	// Replicas (optional) sweeps assistant.replicas; Stores (optional)
	// sweeps breaker.store: local, redis (a cell's shared breaker lives in
	// its own embedded Redis).
	Replicas []int
	Stores   []string
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
	// Window and Interval replace the scenario's rolling window and fixed
	// interval when HasWindow and HasInterval are set (0 is a value to
	// sweep: no window, or counts never cleared).
	Window, Interval       time.Duration
	HasWindow, HasInterval bool
	// Replicas and Store, when set (non-zero), replace assistant.replicas
	// and breaker.store.
	Replicas int
	Store    string
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
	if s.HasWindow {
		b.WriteString("-w" + shortDuration(s.Window))
	}
	if s.HasInterval {
		b.WriteString("-iv" + shortDuration(s.Interval))
	}
	if s.Replicas != 0 {
		b.WriteString("-rep" + strconv.Itoa(s.Replicas))
	}
	if s.Store != "" {
		b.WriteString("-" + s.Store)
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
	if s.HasWindow {
		c.Breaker.Window = scenarios.Duration(s.Window)
		if s.Window > 0 {
			c.Breaker.Interval = 0
		}
	}
	if s.HasInterval {
		c.Breaker.Interval = scenarios.Duration(s.Interval)
		if s.Interval > 0 {
			c.Breaker.Window = 0
		}
	}
	if s.Replicas != 0 {
		c.Assistant.Replicas = s.Replicas
	}
	if s.Store != "" {
		c.Breaker.Store = s.Store
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
	for _, v := range g.Windows {
		if v < 0 || v > limits.MaxInterval {
			errs = append(errs, fmt.Errorf("window %v: must be from 0 (none) to %v", v, limits.MaxInterval))
		}
	}
	for _, v := range g.Intervals {
		if v < 0 || v > limits.MaxInterval {
			errs = append(errs, fmt.Errorf("interval %v: must be from 0 (never) to %v", v, limits.MaxInterval))
		}
	}
	for _, v := range g.Replicas {
		if v < limits.MinReplicas || v > limits.MaxReplicas {
			errs = append(errs, fmt.Errorf("replicas %d: want %d to %d", v, limits.MinReplicas, limits.MaxReplicas))
		}
	}
	for _, v := range g.Stores {
		if v != scenarios.StoreLocal && v != scenarios.StoreRedis {
			errs = append(errs, fmt.Errorf("store %q: want local or redis", v))
		}
	}
	errs = append(errs, dupes("replicas", g.Replicas), dupes("store", g.Stores))
	if len(g.Windows) > 0 && len(g.Intervals) > 0 {
		errs = append(errs, errors.New("windows and intervals: sweep one of them (a breaker has either a rolling window or a fixed interval)"))
	}
	errs = append(errs, dupes("window", g.Windows), dupes("interval", g.Intervals))
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
	for _, st := range orDefault(g.Stores) {
		for _, rep := range orDefault(g.Replicas) {
			for _, p := range orDefault(g.Policies) {
				for _, fr := range orDefault(g.FailureRatios) {
					for _, hom := range orDefault(g.HalfOpenMax) {
						for _, cw := range g.countWindows() {
							for _, ft := range g.FailThresholds {
								s := cw
								s.FailThreshold, s.Policy, s.FailureRatio, s.HalfOpenMax = ft, p, fr, hom
								s.Replicas, s.Store = rep, st
								out = append(out, s)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// countWindows lists the window or interval settings of the rows: one per
// value of the axis given, or a single one that keeps the scenario's.
func (g Grid) countWindows() []Settings {
	var out []Settings
	for _, w := range g.Windows {
		out = append(out, Settings{Window: w, HasWindow: true})
	}
	for _, iv := range g.Intervals {
		out = append(out, Settings{Interval: iv, HasInterval: true})
	}
	if len(out) == 0 {
		out = []Settings{{}}
	}
	return out
}

// RowLabels label the heatmap rows: "ft 5", with the optional axes in
// front when the grid has them ("ratio fr 50% hom 2 ft 5").
func (g Grid) RowLabels() []string {
	var out []string
	for _, r := range g.rows() {
		var parts []string
		if r.Store != "" {
			parts = append(parts, r.Store)
		}
		if r.Replicas != 0 {
			parts = append(parts, "rep "+strconv.Itoa(r.Replicas))
		}
		if r.Policy != "" {
			parts = append(parts, r.Policy)
		}
		if r.FailureRatio != 0 {
			parts = append(parts, "fr "+strconv.FormatFloat(r.FailureRatio*100, 'f', -1, 64)+"%")
		}
		if r.HalfOpenMax != 0 {
			parts = append(parts, "hom "+strconv.Itoa(r.HalfOpenMax))
		}
		if r.HasWindow {
			parts = append(parts, "w "+shortDuration(r.Window))
		}
		if r.HasInterval {
			parts = append(parts, "iv "+shortDuration(r.Interval))
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
