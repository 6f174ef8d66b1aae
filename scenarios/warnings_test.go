package scenarios

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	const phases = "phases: [{name: a, duration: 2m}, {name: b, duration: 2m}]\n"
	tests := []struct {
		name string
		yaml string
		want []string // "line:col code path", in order; nil = none
	}{
		{"defaults: none", phases, nil},
		{"ratio without window", "breaker: {policy: ratio}\n" + phases, []string{"1:19 W001 breaker.policy"}},
		{"ratio with window", "breaker: {policy: ratio, window: 60s}\n" + phases, nil},
		{"ratio with interval", "breaker: {policy: ratio, interval: 60s}\n" + phases, nil},
		{"ratio without window, silenced by code", "ignore_warnings: [W001]\nbreaker: {policy: ratio}\n" + phases, nil},
		{"ratio without window, silenced by name", "ignore_warnings: [ratio-without-window]\nbreaker: {policy: ratio}\n" + phases, nil},
		{"breaker off: no breaker warnings", "breaker: {enabled: false, policy: ratio, call_timeout: 40s}\n" + phases, nil},
		{"call timeout at the load timeout", "breaker: {call_timeout: 35s}\n" + phases, []string{"1:25 W002 breaker.call_timeout"}},
		{"call timeout above a phase's load timeout",
			"breaker: {call_timeout: 10s}\nphases: [{name: a, duration: 2m}, {name: b, duration: 2m, load: {timeout: 5s}}]\n",
			[]string{"1:25 W002 breaker.call_timeout"}},
		{"window too short for min_requests", "breaker: {policy: ratio, window: 1s, min_requests: 20}\n" + phases, []string{"1:34 W003 breaker.window"}},
		{"window long enough", "breaker: {policy: ratio, window: 2s, min_requests: 20}\n" + phases, nil},
		{"reset timeout beyond the run", "breaker: {reset_timeout: 4m}\n" + phases, []string{"1:26 W004 breaker.reset_timeout"}},
		{"unused settings", "breaker: {buckets: 4, failure_ratio: 30%, min_requests: 20}\n" + phases,
			[]string{"1:20 W005 breaker.buckets", "1:38 W005 breaker.failure_ratio"}},
		{"fail threshold under ratio", "breaker: {policy: ratio, window: 60s, fail_threshold: 3}\n" + phases, []string{"1:55 W005 breaker.fail_threshold"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("w.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range s.Warnings {
				got = append(got, strings.Join([]string{itoa(w.Line) + ":" + itoa(w.Column), w.Code, w.Path}, " "))
				if !strings.HasPrefix(w.String(), "w.yaml:") || !strings.Contains(w.String(), "warning "+w.Code+" ("+w.Name+")") {
					t.Errorf("String() = %q", w.String())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Lint finds the same ones except unused-setting, which needs
			// to know what the file gave.
			var lint []string
			for _, w := range s.Lint() {
				lint = append(lint, w.Code+" "+w.Path)
			}
			var want []string
			for _, w := range s.Warnings {
				if w.Code != "W005" {
					want = append(want, w.Code+" "+w.Path)
				}
			}
			if strings.Join(lint, ",") != strings.Join(want, ",") {
				t.Errorf("Lint() = %v, want %v", lint, want)
			}
		})
	}
}

func TestIgnoreWarningsUnknown(t *testing.T) {
	_, err := Parse("w.yaml", []byte("ignore_warnings: [W999]\nphases: [{name: a, duration: 2m}]\n"))
	if err == nil || !strings.Contains(err.Error(), `w.yaml:1:19: ignore_warnings[0]: found "W999", want a warning code or name (valid: W001 (ratio-without-window)`) {
		t.Errorf("err = %v", err)
	}
}
