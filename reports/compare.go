package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"brownout/scenarios"
)

// Names of the files WriteComparison writes.
const (
	ComparePNG      = "compare.png"
	CompareMarkdown = "compare.md"
	CompareJSON     = "compare.json"
)

// CompareFormat is the version of the compare.json layout.
const CompareFormat = 1

// Change kinds: how a metric's difference is expressed.
const (
	// ChangePP is a difference of two ratios in percentage points: a
	// relative change of a ratio (10% → 11% is "+10%") misleads.
	ChangePP = "pp"
	// ChangeRelative is (new − base) ÷ base, for latencies, times, counts
	// and rates, whose scale varies too much between scenarios for an
	// absolute difference to read well.
	ChangeRelative = "relative"
)

// Side is one run of a comparison.
type Side struct {
	// Label names the run in every output: the label given, or the
	// folder's name.
	Label string
	// Dir is the run folder.
	Dir string
	// Summary holds the run's metrics and verdicts as summary.json would.
	Summary *Summary
	rec     *Recording
}

// MetricDiff is one metric of both runs and how it changed.
type MetricDiff struct {
	Metric string
	Base   MetricValue
	New    MetricValue
	// Difference is new − base in the metric's base unit (seconds,
	// fraction, count, per second); NaN when either side has no value.
	Difference float64
	// Change is the difference as compared: percentage points for ratios
	// (ChangeKind ChangePP), a fraction of the base for the rest
	// (ChangeRelative; +Inf when the base is 0 and the new value is not).
	// NaN when either side has no value.
	Change     float64
	ChangeKind string
}

// PhaseDiff is every metric of one phase of both runs. Phases are matched
// by name; a phase only one run has lists no metrics and says which run
// has it.
type PhaseDiff struct {
	Name    string
	InBase  bool
	InNew   bool
	Metrics []MetricDiff
}

// Comparison is two runs side by side: every metric overall and per phase,
// both values and the change.
type Comparison struct {
	Base, New Side
	Overall   []MetricDiff
	Phases    []PhaseDiff
	// Bounds are the --fail-on bounds judged, in the order given.
	Bounds []BoundResult
}

// Compare loads two run folders and compares every metric of reports
// overall and per phase. The labels name the runs in the outputs; an empty
// label uses the folder's name. Each run is judged on its own scenario's
// thresholds, as Render would.
func Compare(baseDir, newDir, baseLabel, newLabel string) (*Comparison, error) {
	base, err := loadSide(baseDir, baseLabel)
	if err != nil {
		return nil, fmt.Errorf("base run: %w", err)
	}
	nw, err := loadSide(newDir, newLabel)
	if err != nil {
		return nil, fmt.Errorf("new run: %w", err)
	}
	if base.Label == nw.Label {
		base.Label += " (base)"
		nw.Label += " (new)"
	}
	return compareSides(base, nw), nil
}

func loadSide(dir, label string) (Side, error) {
	r, err := Load(dir)
	if err != nil {
		return Side{}, err
	}
	var ths []scenarios.Threshold
	if r.Scenario != nil {
		ths = r.Scenario.Thresholds
	}
	if label == "" {
		label = filepath.Base(filepath.Clean(dir))
	}
	return Side{Label: label, Dir: dir, Summary: Summarize(r, Evaluate(r, ths)), rec: r}, nil
}

func compareSides(base, nw Side) *Comparison {
	c := &Comparison{Base: base, New: nw}
	c.Overall = diffMetrics(base.Summary.Overall, nw.Summary.Overall)
	newPhases := map[string]PhaseSummary{}
	for _, p := range nw.Summary.Phases {
		newPhases[p.Name] = p
	}
	seen := map[string]bool{}
	for _, p := range base.Summary.Phases {
		seen[p.Name] = true
		np, ok := newPhases[p.Name]
		pd := PhaseDiff{Name: p.Name, InBase: true, InNew: ok}
		if ok {
			pd.Metrics = diffMetrics(p.Metrics, np.Metrics)
		}
		c.Phases = append(c.Phases, pd)
	}
	for _, p := range nw.Summary.Phases {
		if !seen[p.Name] {
			c.Phases = append(c.Phases, PhaseDiff{Name: p.Name, InNew: true})
		}
	}
	return c
}

func diffMetrics(base, nw Metrics) []MetricDiff {
	out := make([]MetricDiff, 0, len(base))
	for _, b := range base {
		n, _ := nw.Get(b.Name)
		out = append(out, diffOne(b, n))
	}
	return out
}

// Display renders the value with its unit as the reports show it: "40%",
// "300 ms", "never", or "–" for no data.
func (v MetricValue) Display() string { return displayMetric(v) }

// numeric is a metric value as a number: +Inf for an event that never
// happened, NaN for no data.
func (v MetricValue) numeric() float64 {
	switch {
	case v.Never:
		return math.Inf(1)
	case v.NoData:
		return math.NaN()
	}
	return v.Value
}

func diffOne(b, n MetricValue) MetricDiff {
	d := MetricDiff{Metric: b.Name, Base: b, New: n, ChangeKind: changeKind(b.Name)}
	bv, nv := b.numeric(), n.numeric()
	d.Difference = nv - bv
	if math.IsInf(bv, 1) && math.IsInf(nv, 1) {
		d.Difference = 0 // never in both runs: no change
	}
	switch {
	case math.IsNaN(d.Difference):
		d.Change = math.NaN()
	case d.ChangeKind == ChangePP:
		d.Change = d.Difference * 100
	case d.Difference == 0:
		d.Change = 0
	case bv == 0 || math.IsInf(bv, 1):
		d.Change = math.Copysign(math.Inf(1), d.Difference)
	default:
		d.Change = d.Difference / math.Abs(bv)
	}
	return d
}

func changeKind(metric string) string {
	if scenarios.Metrics[metric] == scenarios.UnitRatio {
		return ChangePP
	}
	return ChangeRelative
}

// ChangeText renders a change for people: "+2.5 pp", "−12%", "0",
// "n/a" when either side has no value, "from 0" or "from never" when the
// base leaves no relative change to speak of.
func (d MetricDiff) ChangeText() string {
	switch {
	case math.IsNaN(d.Change):
		return "n/a"
	case d.Change == 0:
		return "0"
	case math.IsInf(d.Change, 0) && math.IsInf(d.Base.numeric(), 1):
		return "from never"
	case math.IsInf(d.Change, 0) && math.IsInf(d.New.numeric(), 1):
		return "to never"
	case math.IsInf(d.Change, 0):
		return "from 0"
	case d.ChangeKind == ChangePP:
		return signed(trimFloat(d.Change, 2)) + " pp"
	}
	bv, nv := d.Base.numeric(), d.New.numeric()
	switch {
	case d.Change >= 1:
		// A rise of 100% or more reads better as a factor too.
		return signed(sig3(d.Change*100)) + "% (×" + sig3(nv/bv) + ")"
	case d.Change < -0.9 && nv != 0 && bv/nv < 1e15:
		// A fall of more than 90% rounds towards −100%, which would read
		// as "to zero": give the factor.
		return "−" + formatPercent(-d.Change) + " (÷" + sig3(bv/nv) + ")"
	}
	return signed(sig3(d.Change*100)) + "%"
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:]
	}
	if s == "0" {
		return s
	}
	return "+" + s
}

// WriteComparison writes compare.png, compare.md and compare.json into
// dir, creating it, and returns the paths written.
func (c *Comparison) WriteComparison(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	png, err := c.png()
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", ComparePNG, err)
	}
	js, err := c.JSON()
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", CompareJSON, err)
	}
	var files []string
	for _, f := range []struct {
		name string
		data []byte
	}{{ComparePNG, png}, {CompareMarkdown, c.Markdown()}, {CompareJSON, js}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return files, fmt.Errorf("reports: %w", err)
		}
		files = append(files, p)
	}
	return files, nil
}

// ---- JSON ----

type jsonDiff struct {
	Base       jsonValue `json:"base"`
	New        jsonValue `json:"new"`
	Difference *float64  `json:"difference"`
	Change     *float64  `json:"change"`
	ChangeUnit string    `json:"change_unit"`
	Display    string    `json:"display"`
}

// jsonValue is a metric value: a number, "never", or null for no data.
type jsonValue MetricValue

func (v jsonValue) MarshalJSON() ([]byte, error) {
	return Metrics{MetricValue(v)}.value()
}

// value encodes the single value of a one-element Metrics.
func (m Metrics) value() ([]byte, error) {
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// {"name":VALUE} → VALUE
	k, _ := json.Marshal(m[0].Name)
	return b[len(k)+2 : len(b)-1], nil
}

// jsonDiffs encodes diffs as one object keyed by metric, in list order.
type jsonDiffs []MetricDiff

func (ds jsonDiffs) MarshalJSON() ([]byte, error) {
	return orderedObject(len(ds), func(i int) (string, any) {
		d := ds[i]
		return d.Metric, jsonDiff{Base: jsonValue(d.Base), New: jsonValue(d.New), Difference: finite(d.Difference),
			Change: finite(d.Change), ChangeUnit: d.ChangeKind, Display: d.ChangeText()}
	})
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

type jsonSide struct {
	Label    string            `json:"label"`
	Dir      string            `json:"dir"`
	Scenario string            `json:"scenario"`
	Verdict  string            `json:"verdict"`
	Settings Settings          `json:"settings"`
	Versions map[string]string `json:"versions"`
}

type jsonPhaseDiff struct {
	Name    string    `json:"name"`
	InBase  bool      `json:"in_base"`
	InNew   bool      `json:"in_new"`
	Metrics jsonDiffs `json:"metrics"`
}

type jsonBound struct {
	Bound   string    `json:"bound"`
	Base    jsonValue `json:"base"`
	New     jsonValue `json:"new"`
	Change  string    `json:"change"`
	Failed  bool      `json:"failed"`
	Message string    `json:"message"`
}

type jsonComparison struct {
	Format  int             `json:"format"`
	Base    jsonSide        `json:"base"`
	New     jsonSide        `json:"new"`
	Overall jsonDiffs       `json:"overall"`
	Phases  []jsonPhaseDiff `json:"phases"`
	FailOn  []jsonBound     `json:"fail_on"`
	Passed  bool            `json:"passed"`
}

func (s Side) json() jsonSide {
	return jsonSide{Label: s.Label, Dir: s.Dir, Scenario: s.Summary.Scenario, Verdict: s.Summary.Verdict,
		Settings: s.Summary.Settings, Versions: s.Summary.Versions}
}

// JSON renders compare.json: both runs' labels, settings and verdicts,
// then every metric overall and per phase with both values (in base
// units; "never" for an event that did not happen, null for no data), the
// difference new − base, and the change (percentage points for ratios,
// relative for the rest; null when undefined), then the --fail-on bounds.
func (c *Comparison) JSON() ([]byte, error) {
	js := jsonComparison{Format: CompareFormat, Base: c.Base.json(), New: c.New.json(),
		Overall: c.Overall, Phases: []jsonPhaseDiff{}, FailOn: []jsonBound{}, Passed: c.Passed()}
	for _, p := range c.Phases {
		m := p.Metrics
		if m == nil {
			m = []MetricDiff{}
		}
		js.Phases = append(js.Phases, jsonPhaseDiff{Name: p.Name, InBase: p.InBase, InNew: p.InNew, Metrics: m})
	}
	for _, b := range c.Bounds {
		js.FailOn = append(js.FailOn, jsonBound{Bound: b.Bound.Raw, Base: jsonValue(b.Diff.Base), New: jsonValue(b.Diff.New),
			Change: b.Diff.ChangeText(), Failed: b.Failed, Message: b.Message})
	}
	return encodeJSON(js)
}

// ---- Markdown ----

// Markdown renders compare.md: the two runs, the --fail-on verdict, then a
// table per scope (whole run, each phase) of every metric with both
// values and the change.
func (c *Comparison) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# brownout comparison: %s vs %s\n\n", mdEscape(c.Base.Label), mdEscape(c.New.Label))
	p("| | base: %s | new: %s |\n|---|---|---|\n", mdEscape(c.Base.Label), mdEscape(c.New.Label))
	p("| folder | %s | %s |\n", mdEscape(c.Base.Dir), mdEscape(c.New.Dir))
	p("| scenario | %s | %s |\n", mdEscape(c.Base.Summary.Scenario), mdEscape(c.New.Summary.Scenario))
	p("| verdict | %s | %s |\n", c.Base.Summary.Verdict, c.New.Summary.Verdict)
	bs, ns := settingRows(c.Base.Summary.Settings), settingRows(c.New.Summary.Settings)
	keys := map[string][2]string{}
	var order []string
	for _, kv := range bs {
		keys[kv[0]] = [2]string{kv[1], "–"}
		order = append(order, kv[0])
	}
	for _, kv := range ns {
		v, ok := keys[kv[0]]
		if !ok {
			v[0] = "–"
			order = append(order, kv[0])
		}
		v[1] = kv[1]
		keys[kv[0]] = v
	}
	for _, k := range order {
		p("| %s | %s | %s |\n", k, mdEscape(keys[k][0]), mdEscape(keys[k][1]))
	}
	p("\nChanges are new − base: in percentage points (pp) for ratios, relative to the base for latencies, times, counts and rates.\n\n")
	if len(c.Bounds) > 0 {
		if c.Passed() {
			p("**Regression bounds: ✅ all %d hold.**\n\n", len(c.Bounds))
		} else {
			p("**Regression bounds: ❌ %d of %d exceeded.**\n\n", c.failedBounds(), len(c.Bounds))
		}
		p("| Bound | Base | New | Change | Verdict |\n|---|---:|---:|---:|:---:|\n")
		for _, r := range c.Bounds {
			v := "✅ holds"
			if r.Failed {
				v = "❌ **exceeded**"
			}
			p("| `%s` | %s | %s | %s | %s |\n", r.Bound.Raw, displayMetric(r.Diff.Base), displayMetric(r.Diff.New), r.Diff.ChangeText(), v)
		}
		p("\n")
	}
	p("## At a glance\n\n")
	for _, line := range c.glance() {
		p("- %s\n", line)
	}
	p("\n![both runs overlaid: breaker state, outcomes, latency, upstream load](%s)\n\n", ComparePNG)
	table := func(ds []MetricDiff) {
		p("| Metric | %s | %s | Change |\n|---|---:|---:|---:|\n", mdEscape(c.Base.Label), mdEscape(c.New.Label))
		for _, d := range ds {
			p("| %s | %s | %s | %s |\n", d.Metric, displayMetric(d.Base), displayMetric(d.New), d.ChangeText())
		}
		p("\n")
	}
	p("## Whole run\n\n")
	table(c.Overall)
	for _, ph := range c.Phases {
		p("## Phase %s\n\n", mdEscape(ph.Name))
		switch {
		case !ph.InNew:
			p("Only the base run has this phase.\n\n")
		case !ph.InBase:
			p("Only the new run has this phase.\n\n")
		default:
			table(ph.Metrics)
		}
	}
	return b.Bytes()
}

// glance sums up the comparison for a reviewer in three lines: what users
// got, what the upstream received, what the breaker did (whole run).
func (c *Comparison) glance() []string {
	get := func(m string) MetricDiff {
		for _, d := range c.Overall {
			if d.Metric == m {
				return d
			}
		}
		return diffOne(MetricValue{Name: m, NoData: true}, MetricValue{Name: m, NoData: true})
	}
	unnest := strings.NewReplacer(" (", "; ", ")", "")
	move := func(m string) string {
		d := get(m)
		return fmt.Sprintf("%s → %s (%s)", d.Base.Display(), d.New.Display(), unnest.Replace(d.ChangeText()))
	}
	return []string{
		"**Users**: success " + move("success_ratio") + ", fallbacks " + move("fallback_ratio") +
			", 503s " + move("unavailable_ratio") + "; latency p50 " + move("latency_p50") + ", p99 " + move("latency_p99") + ".",
		"**Upstream**: calls " + move("upstream_calls") + ", failed calls " + move("upstream_failures") + ".",
		"**Breaker**: opens " + move("breaker_opens") + ", open for " + move("open_time_ratio") + " of the run.",
	}
}

// ---- regression bounds ----

// Bound is one regression bound of --fail-on, e.g. "latency_p99:+10%":
// the metric (optionally over one phase) may not move in the bound's
// direction by more than the amount.
type Bound struct {
	// Raw is the bound as written.
	Raw    string
	Metric string
	// Phase restricts the bound to one phase; "" is the whole run.
	Phase string
	// Up is true for "+": an increase beyond the amount is a regression;
	// false for "−": a decrease beyond it is.
	Up bool
	// Amount is the largest allowed move: a fraction of the base for
	// ChangeRelative, percentage points for ChangePP, or the metric's base
	// unit for an absolute bound (Kind "").
	Amount float64
	// Kind is ChangeRelative ("%"), ChangePP ("pp") or "" for an absolute
	// amount in the metric's unit.
	Kind string
}

// ParseBounds reads a --fail-on list: comma-separated bounds
// METRIC[{phase:NAME}]:±AMOUNT where AMOUNT is N% (relative to the base;
// not for ratios), Npp (percentage points; ratios only) or an absolute N
// in the metric's unit (a count, a rate per second, or a duration such as
// 50ms; not for ratios). "+" bounds an increase, "-" a decrease, so
// "success_ratio:-1pp" fails when success drops by more than one point.
// Every error names the bound and what would be valid.
func ParseBounds(s string) ([]Bound, error) {
	var out []Bound
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty list: want METRIC:+AMOUNT, e.g. latency_p99:+10%%,fallback_ratio:+2pp,upstream_failures:+0")
	}
	for i, raw := range splitBounds(s) {
		b, err := parseBound(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("bound %d %q: %w", i+1, strings.TrimSpace(raw), err)
		}
		out = append(out, b)
	}
	return out, nil
}

// splitBounds splits at commas outside braces.
func splitBounds(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseBound(raw string) (Bound, error) {
	b := Bound{Raw: raw}
	if raw == "" {
		return b, fmt.Errorf("empty bound: want METRIC:+AMOUNT")
	}
	sep := strings.LastIndexByte(raw, ':')
	if close := strings.LastIndexByte(raw, '}'); sep < close {
		sep = -1
		if close+1 < len(raw) && raw[close+1] == ':' {
			sep = close + 1
		}
	}
	if sep < 0 {
		return b, fmt.Errorf("no ':' before the amount: want METRIC:+AMOUNT, e.g. latency_p99:+10%%")
	}
	key, amount := raw[:sep], raw[sep+1:]
	b.Metric = key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		b.Metric = key[:i]
		filter := key[i:]
		if !strings.HasSuffix(filter, "}") || strings.Count(filter, "{") != 1 || strings.Count(filter, "}") != 1 {
			return b, fmt.Errorf("filter %q: want {phase:NAME}", filter)
		}
		k, v, ok := strings.Cut(filter[1:len(filter)-1], ":")
		if !ok || strings.TrimSpace(k) != "phase" || strings.TrimSpace(v) == "" {
			return b, fmt.Errorf("filter %q: the only filter a bound takes is {phase:NAME}", filter)
		}
		b.Phase = strings.TrimSpace(v)
	}
	b.Metric = strings.TrimSpace(b.Metric)
	unit, ok := scenarios.Metrics[b.Metric]
	if !ok {
		return b, fmt.Errorf("unknown metric %q: want one of %s", b.Metric, strings.Join(MetricNames, ", "))
	}
	amount = strings.TrimSpace(amount)
	if rest, ok := strings.CutPrefix(amount, "+"); ok {
		b.Up, amount = true, rest
	} else if rest, ok := strings.CutPrefix(amount, "-"); ok {
		amount = rest
	} else if rest, ok := strings.CutPrefix(amount, "−"); ok {
		amount = rest
	} else {
		return b, fmt.Errorf("amount %q: start it with + (an increase is a regression) or - (a decrease is)", amount)
	}
	var num string
	switch {
	case strings.HasSuffix(amount, "pp"):
		b.Kind, num = ChangePP, strings.TrimSuffix(amount, "pp")
		if unit != scenarios.UnitRatio {
			return b, fmt.Errorf("%s is a %s, not a ratio: give a relative amount (+10%%) or an absolute one", b.Metric, unit)
		}
	case strings.HasSuffix(amount, "%"):
		b.Kind, num = ChangeRelative, strings.TrimSuffix(amount, "%")
		if unit == scenarios.UnitRatio {
			return b, fmt.Errorf("%s is a ratio: give the amount in percentage points, e.g. +2pp", b.Metric)
		}
	default:
		num = amount
		if unit == scenarios.UnitRatio {
			return b, fmt.Errorf("%s is a ratio: give the amount in percentage points, e.g. +2pp", b.Metric)
		}
	}
	if num == "" {
		return b, fmt.Errorf("amount %q: no number", amount)
	}
	if b.Kind == "" && unit == scenarios.UnitDuration {
		d, err := scenarios.ParseDuration(num)
		if err != nil {
			return b, fmt.Errorf("amount %q: %s is a duration: want e.g. +50ms, +2s or +10%%", amount, b.Metric)
		}
		b.Amount = time.Duration(d).Seconds()
	} else {
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("amount %q: %q is not a number", amount, num)
		}
		if b.Kind == ChangeRelative {
			v /= 100
		}
		b.Amount = v
	}
	if b.Amount < 0 {
		return b, fmt.Errorf("amount %q: must not be negative after the sign", amount)
	}
	return b, nil
}

// BoundResult is one bound judged on a comparison.
type BoundResult struct {
	Bound   Bound
	Diff    MetricDiff
	Failed  bool
	Message string
}

// Judge checks the bounds against the comparison and stores the results
// in c.Bounds. A bound is exceeded when the metric moved in its direction
// by strictly more than the amount; a bound that cannot be judged (a phase
// a run lacks, no data on either side) fails too, since nothing shows it
// holds.
func (c *Comparison) Judge(bounds []Bound) {
	c.Bounds = nil
	for _, b := range bounds {
		c.Bounds = append(c.Bounds, c.judge(b))
	}
}

func (c *Comparison) judge(b Bound) BoundResult {
	res := BoundResult{Bound: b}
	ds := c.Overall
	if b.Phase != "" {
		ds = nil
		for _, p := range c.Phases {
			if p.Name == b.Phase {
				ds = p.Metrics
			}
		}
		if ds == nil {
			res.Failed = true
			res.Message = fmt.Sprintf("phase %q is not in both runs", b.Phase)
			res.Diff = MetricDiff{Metric: b.Metric, Base: MetricValue{NoData: true}, New: MetricValue{NoData: true}, Difference: math.NaN(), Change: math.NaN()}
			return res
		}
	}
	for _, d := range ds {
		if d.Metric == b.Metric {
			res.Diff = d
		}
	}
	d := res.Diff
	if math.IsNaN(d.Difference) {
		res.Failed = true
		res.Message = "no data to judge in one of the runs"
		return res
	}
	move := d.Difference
	switch b.Kind {
	case ChangePP:
		move = d.Change
	case ChangeRelative:
		move = d.Change
	}
	if !b.Up {
		move = -move
	}
	res.Failed = move > b.Amount && !nearlyEqual(move, b.Amount)
	dir := "increase"
	if !b.Up {
		dir = "decrease"
	}
	verdict := "within"
	if res.Failed {
		verdict = "beyond"
	}
	res.Message = fmt.Sprintf("%s %s → %s (%s): %s the allowed %s of %s", b.Metric, displayMetric(d.Base), displayMetric(d.New), d.ChangeText(), verdict, dir, b.amountText())
	return res
}

// nearlyEqual absorbs the rounding of a relative change computed in
// floating point, so "+10%" holds for exactly 10% more.
func nearlyEqual(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b))
}

func (b Bound) amountText() string {
	switch b.Kind {
	case ChangePP:
		return trimFloat(b.Amount, 4) + " pp"
	case ChangeRelative:
		return trimFloat(b.Amount*100, 4) + "%"
	}
	return FormatValue(scenarios.Metrics[b.Metric], b.Amount)
}

// Passed reports whether every bound holds (true without bounds).
func (c *Comparison) Passed() bool { return c.failedBounds() == 0 }

func (c *Comparison) failedBounds() int {
	n := 0
	for _, b := range c.Bounds {
		if b.Failed {
			n++
		}
	}
	return n
}
