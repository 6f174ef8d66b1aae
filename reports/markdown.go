package reports

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// markdown renders report.md: GitHub-flavoured Markdown fit to append to
// $GITHUB_STEP_SUMMARY or paste into a review.
func markdown(r *Recording, rep *Report) []byte {
	var b bytes.Buffer
	h := r.Header
	s := rep.Summary
	fmt.Fprintf(&b, "# brownout report: %s\n\n", mdEscape(h.Scenario))
	switch {
	case len(rep.Incomplete) > 0:
		fmt.Fprintf(&b, "**Verdict: ❌ INCOMPLETE RECORDING**: %d of %d thresholds failed or were not judged.\n\n", rep.failed(), len(rep.Verdicts))
	case r.distorted() && rep.failed() == 0:
		b.WriteString("**Verdict: ❌ DISTORTED**: the thresholds hold, but this machine did not keep up with the time scale (see [Time compression](#time-compression)).\n\n")
	case len(rep.Verdicts) == 0:
		b.WriteString("**Verdict: no thresholds to judge.**\n\n")
	case rep.Passed:
		fmt.Fprintf(&b, "**Verdict: ✅ PASS**: all %d thresholds hold.\n\n", len(rep.Verdicts))
	default:
		fmt.Fprintf(&b, "**Verdict: ❌ FAIL**: %d of %d thresholds failed.\n\n", rep.failed(), len(rep.Verdicts))
	}
	if h.Interrupted {
		fmt.Fprintf(&b, "> [!WARNING]\n> The run was interrupted after %s of scenario time; every figure covers only what was recorded.\n\n", formatSeconds(r.Duration().Seconds()))
	}
	if len(rep.Incomplete) > 0 {
		fmt.Fprintf(&b, "> [!CAUTION]\n> **Incomplete recording**: %s. Every record is there only up to %s of scenario time; thresholds that need later data were not judged, and the report cannot pass.\n\n",
			mdEscape(strings.Join(rep.Incomplete, "; ")), formatSeconds(rep.CompleteUntil.Seconds()))
	}
	for _, sf := range rep.Shortfalls {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s\n\n", mdEscape(sf.warning()))
	}
	if h.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", mdEscape(strings.TrimSpace(h.Description)))
	}

	b.WriteString("| Setting | Value |\n|---|---|\n")
	for _, kv := range settingRows(s.Settings) {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], mdEscape(kv[1]))
	}
	fmt.Fprintf(&b, "| duration | %s of scenario time |\n", formatSeconds(s.Duration))
	fmt.Fprintf(&b, "| requests | %d |\n", len(r.reqs))
	fmt.Fprintf(&b, "| upstream calls | %d |\n", len(r.calls))
	fmt.Fprintf(&b, "| breaker transitions | %d |\n\n", len(r.transitions))

	distortionMarkdown(&b, h)
	b.WriteString("## Thresholds\n\n")
	if len(rep.Verdicts) == 0 {
		b.WriteString("The scenario sets no thresholds.\n\n")
	} else {
		b.WriteString("| Threshold | Condition | Observed | Verdict |\n|---|---|---:|:---:|\n")
		for _, v := range rep.Verdicts {
			verdict := "✅ pass"
			if !v.Passed {
				verdict = "❌ **fail**"
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", v.Threshold.Key, v.Condition.String(), mdEscape(v.observed()), verdict)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Phases\n\n")
	cols := []string{"requests", "target_rps", "rps", "success_ratio", "upstream_ratio", "fallback_ratio", "unavailable_ratio", "error_ratio",
		"latency_p50", "latency_p99", "response_time_p99", "upstream_calls", "upstream_failures", "breaker_opens", "open_time_ratio"}
	b.WriteString("| Phase | Span |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", strings.ReplaceAll(c, "_", " "))
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|", len(cols)) + "\n")
	row := func(name, spanText string, m Metrics) {
		fmt.Fprintf(&b, "| %s | %s |", name, spanText)
		for _, c := range cols {
			v, _ := m.Get(c)
			fmt.Fprintf(&b, " %s |", displayMetric(v))
		}
		b.WriteString("\n")
	}
	for _, p := range s.Phases {
		row(mdEscape(p.Name), formatSpan(p.Start, p.End), p.Metrics)
	}
	row("**whole run**", formatSpan(0, s.Duration), s.Overall)
	b.WriteString("\n")

	b.WriteString("## Plots\n\n")
	for _, f := range []struct{ file, alt string }{
		{DashboardFile, "Dashboard: breaker state, outcomes, latency and upstream load over time"},
		{BreakerFile, "Breaker state over time"},
		{OutcomesFile, "Share of requests by outcome over time"},
		{LatencyFile, "Latency percentiles over time"},
		{UpstreamFile, "Upstream calls per second, breaker-open spans shaded"},
	} {
		fmt.Fprintf(&b, "![%s](%s)\n\n", f.alt, f.file)
	}
	if len(s.Versions) > 0 {
		b.WriteString("<sub>")
		first := true
		for _, k := range slices.Sorted(maps.Keys(s.Versions)) {
			if !first {
				b.WriteString(" · ")
			}
			first = false
			fmt.Fprintf(&b, "%s %s", mdEscape(k), mdEscape(s.Versions[k]))
		}
		b.WriteString("</sub>\n")
	}
	return b.Bytes()
}

// settingRows lists the settings for the report's table.
func settingRows(st Settings) [][2]string {
	b := st.Breaker
	var rows [][2]string
	switch {
	case !b.Enabled:
		rows = append(rows, [2]string{"breaker", "disabled"})
	case b.Policy == "ratio":
		rows = append(rows, [2]string{"breaker", fmt.Sprintf("policy ratio: trips at %s failures of at least %d requests", formatPercent(b.FailureRatio), b.MinRequests)})
	default:
		rows = append(rows, [2]string{"breaker", fmt.Sprintf("policy %s: trips after %d consecutive failures", b.Policy, b.FailThreshold)})
	}
	if b.Enabled {
		rows = append(rows,
			[2]string{"reset timeout", humanDuration(b.ResetTimeout)},
			[2]string{"half-open max requests", fmt.Sprint(b.HalfOpenMaxRequests)},
			[2]string{"interval", humanDuration(b.Interval)})
		if w, err := time.ParseDuration(b.Window); err == nil && w > 0 && b.Buckets > 0 {
			rows = append(rows, [2]string{"rolling window", fmt.Sprintf("%s in %d buckets of %s",
				humanDuration(b.Window), b.Buckets, humanDuration((w / time.Duration(b.Buckets)).String()))})
		}
		rows = append(rows,
			[2]string{"call timeout", humanDuration(b.CallTimeout)},
			[2]string{"scope", b.Scope})
	}
	rows = append(rows, targetRows(st.Target)...)
	return append(rows,
		[2]string{"time scale", trimFloat(st.TimeScale, 3) + "×"},
		[2]string{"seed", fmt.Sprint(st.Seed)})
}

// humanDuration rewrites a Go duration string ("1m0s") for people ("60 s").
func humanDuration(d string) string {
	v, err := time.ParseDuration(d)
	if err != nil {
		return d
	}
	return formatSeconds(v.Seconds())
}

func formatSpan(from, to float64) string {
	return trimFloat(from, 3) + "–" + trimFloat(to, 3) + " s"
}

// displayMetric renders a summary value with its unit.
func displayMetric(v MetricValue) string {
	switch {
	case v.Never:
		return "never"
	case v.NoData:
		return "–"
	}
	return FormatValue(scenarios.Metrics[v.Name], v.Value)
}

// mdEscape keeps text from breaking a Markdown table or turning into markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}

// targetRows describe an external target and how its breaker was seen.
func targetRows(t *TargetSettings) [][2]string {
	if t == nil {
		return nil
	}
	what := "service at " + t.URL
	if t.Kind == "launched" {
		what = "launched `" + mdEscape(t.Command) + "` at " + t.URL
		if t.Log != "" {
			what += " (output in " + t.Log + ")"
		}
	}
	widest := FormatValue(scenarios.UnitDuration, t.Widest)
	seen := fmt.Sprintf("polled from the health endpoint every %s of scenario time; each is known to within its polling interval (at most %s here), and so are time_to_open and time_to_close",
		FormatValue(scenarios.UnitDuration, t.Resolution.Seconds()), widest)
	if t.Observed == recording.ObservedAnswers {
		seen = fmt.Sprintf("inferred from the answers (a circuit_breaker_open fallback or a 503 means open, an upstream answer closed; half-open cannot be seen), each within the gap between two answers (at most %s here)", widest)
	}
	return [][2]string{{"target", what}, {"breaker transitions", seen}}
}
