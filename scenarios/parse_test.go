package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// golden compares got with the golden file at path, rewriting it under
// -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestValidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate after Parse: %v", err)
			}
			out, err := Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", out)
			roundTrip(t, s)
		})
	}
}

func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err == nil {
				t.Fatalf("Load accepted an invalid file: %+v", s)
			}
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) == 0 {
				t.Fatalf("error is not a non-empty *ErrorList: %T %v", err, err)
			}
			for _, fe := range list.Errors {
				if fe.File != f || fe.Line < 1 || fe.Column < 1 {
					t.Errorf("error without a position: %#v", fe)
				}
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// roundTrip checks that Marshal's output parses back to an equal scenario.
func roundTrip(t *testing.T, s *Scenario) {
	t.Helper()
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("marshalled.yaml", out)
	if err != nil {
		t.Fatalf("Parse(Marshal(s)): %v\n%s", err, out)
	}
	// The same warnings, found at other positions in the marshalled text.
	if diff := cmp.Diff(s, back, cmpopts.IgnoreFields(Warning{}, "File", "Line", "Column")); diff != "" {
		t.Fatalf("round trip changed the scenario (-before +after):\n%s\n%s", diff, out)
	}
}

func TestBuiltins(t *testing.T) {
	infos := Builtins()
	want := []string{"cold-start", "first-n-failures", "flapping", "garbage", "gradual-degradation", "half-open-relapse",
		"hard-outage", "healthy-baseline", "latency-brownout", "overload", "rate-limited", "replicas-outage", "varying-outage"}
	var names []string
	for _, in := range infos {
		names = append(names, in.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("Builtins() names (-want +got):\n%s", diff)
	}
	for _, in := range infos {
		t.Run(in.Name, func(t *testing.T) {
			if in.Description == "" || strings.Contains(in.Description, "\n") || strings.HasPrefix(in.Description, "(invalid") {
				t.Errorf("description %q is not a one-line summary", in.Description)
			}
			s, err := Builtin(in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != in.Name {
				t.Errorf("name %q in file %s.yaml", s.Name, in.Name)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			src, err := BuiltinSource(in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(src), "# yaml-language-server: $schema=./schema.json\n") {
				t.Errorf("%s.yaml does not start with the schema comment", in.Name)
			}
			if d := s.TotalDuration(); d < 2*60e9 || d > 5*60e9 {
				t.Errorf("total duration %v, want 2-5 minutes so runs stay cheap", d)
			}
			if len(s.Thresholds) == 0 {
				t.Errorf("no thresholds")
			}
			for _, p := range s.Phases {
				if r := maxRate(p.Load.Rate); r < 5 || r > 40 {
					t.Errorf("phase %s: peak rate %v/s, want modest load (5-40/s)", p.Name, r)
				}
			}
			roundTrip(t, s)
		})
	}
}

// maxRate is the peak of a load pattern.
func maxRate(rs RateSpec) float64 {
	switch rs.Pattern {
	case PatternRamp:
		return float64(max(rs.From, rs.To))
	case PatternSine:
		return float64(rs.Mean + rs.Amplitude)
	}
	return float64(rs.Rate)
}

// TestHardOutageMatchesIssue pins the built-in hard-outage to the example
// of the scenario-format issue.
func TestHardOutageMatchesIssue(t *testing.T) {
	s, err := Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 42 || len(s.Phases) != 3 {
		t.Fatalf("seed %d, %d phases", s.Seed, len(s.Phases))
	}
	type ph struct {
		name string
		dur  string
		rate float64
	}
	want := []ph{{"healthy", "1m0s", 20}, {"outage", "1m30s", 20}, {"recovery", "2m0s", 40}}
	for i, p := range s.Phases {
		got := ph{p.Name, p.Duration.String(), float64(p.Load.Rate.Rate)}
		if got != want[i] {
			t.Errorf("phase %d = %+v, want %+v", i, got, want[i])
		}
	}
	f := s.Phases[1].Faults
	if len(f) != 1 || f[0].Kind != KindStatus || f[0].Body != "model_loading" || f[0].Rate == nil || *f[0].Rate != 1 {
		t.Errorf("outage faults = %+v", f)
	}
	var keys []string
	for _, th := range s.Thresholds {
		keys = append(keys, th.Key)
	}
	wantKeys := []string{"fallback_ratio{phase:outage}", "unavailable_ratio", "latency_p99{phase:outage}",
		"upstream_calls{breaker:open}", "breaker_opens", "time_to_open{phase:outage}", "time_to_close{phase:recovery}"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("threshold keys in file order (-want +got):\n%s", diff)
	}
	// time_to_close must leave room for one reset_timeout.
	ttc := s.Thresholds[6].Conditions[0]
	if ttc.Holds(s.Breaker.ResetTimeout.D().Seconds()+1) == false {
		t.Errorf("time_to_close %s cannot be met with reset_timeout %s", ttc.Raw, s.Breaker.ResetTimeout)
	}
}

func TestDefaultsApplied(t *testing.T) {
	s, err := Parse("dir/my-scenario.yaml", []byte("phases: [{name: a, duration: 2m}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Name = "my-scenario"
	want.Phases = []Phase{{Name: "a", Duration: Duration(120e9), Load: want.Load, Upstream: want.Upstream}}
	if diff := cmp.Diff(&want, s); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestPhaseOverrideMerges(t *testing.T) {
	src := `
load: {rate: 20/s, timeout: 9s}
upstream: {tokens: 10, capacity: {concurrency: 4, queue: 5}}
phases:
  - {name: a, duration: 1s, load: {timeout: 3s}, upstream: {capacity: {queue: 1}}}
  - {name: b, duration: 1s, upstream: {latency: {ttft: 1s}}}
`
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Phases[0], s.Phases[1]
	if a.Load.Rate.Rate != 20 || a.Load.Timeout != Duration(3e9) || a.Upstream.Capacity != (Capacity{4, 1}) || a.Upstream.Tokens != 10 {
		t.Errorf("phase a = %+v", a)
	}
	if b.Upstream.Latency.TTFT != (Dist{Dist: DistFixed, Value: Duration(1e9)}) || b.Upstream.Latency.PerToken != s.Upstream.Latency.PerToken {
		t.Errorf("phase b latency = %+v (a distribution is replaced whole)", b.Upstream.Latency)
	}
	if b.Load != s.Load {
		t.Errorf("phase b load %+v, want the scenario's %+v", b.Load, s.Load)
	}
}

func TestValidateInCode(t *testing.T) {
	s, err := Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	s.Breaker.FailThreshold = 0
	s.Breaker.Policy = "ratoi"
	s.Phases[1].Faults[0].First = -1
	s.Thresholds[0].Filters.Phase = "nope"
	err = s.Validate()
	var list *ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Validate = %v, want *ErrorList", err)
	}
	got := err.Error()
	for _, want := range []string{
		`breaker.policy: found "ratoi", want a policy; did you mean "ratio"?`,
		"breaker.fail_threshold: found 0, want an integer from 1 to 10000",
		"phases[1].faults[0].first: found -1, want a positive integer",
		`thresholds["fallback_ratio{phase:outage}"]: phase "nope" does not exist`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate error lacks %q:\n%s", want, got)
		}
	}
	for _, fe := range list.Errors {
		if fe.Line != 0 || fe.File != "" {
			t.Errorf("Validate error has a position: %#v", fe)
		}
	}
}

func TestOpen(t *testing.T) {
	s, err := Open("hard-outage")
	if err != nil || s.Name != "hard-outage" {
		t.Fatalf("Open(built-in) = %v, %v", s, err)
	}
	s, err = Open("testdata/valid/minimal.yaml")
	if err != nil || s.Name != "minimal" {
		t.Fatalf("Open(file) = %v, %v", s, err)
	}
	for _, tc := range []struct{ arg, want string }{
		{"hard-outgae", `did you mean "hard-outage"?`},
		{"nothing-like-it-at-all", "built-ins: cold-start, first-n-failures"},
		{"missing/file.yaml", "no such file missing/file.yaml"},
		{"testdata", "is a directory"},
	} {
		_, err := Open(tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", tc.arg, err, tc.want)
		}
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("Builtin(nope) succeeded")
	}
}

func TestParseThresholdsFile(t *testing.T) {
	ths, err := ParseThresholds("t.yaml", []byte("thresholds:\n  \"latency_p99{phase:x}\": [\"< 1s\"]\n  breaker_opens: \">= 1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ths) != 2 || ths[0].Filters.Phase != "x" || ths[0].Conditions[0].Value != 1 || ths[1].Metric != "breaker_opens" {
		t.Errorf("thresholds = %+v", ths)
	}
	for _, tc := range []struct{ src, want string }{
		{"thresholds:\n  latency_p99: [\"< 1\"]\n", "t.yaml:2:17: thresholds[\"latency_p99\"][0]: condition \"< 1\""},
		{"threshold:\n  latency_p99: [\"< 1s\"]\n", `t.yaml:1:1: threshold: unknown key "threshold"; did you mean "thresholds"?`},
		{"seed: 1\n", `unknown key "seed"`},
		{"", "empty"},
		{"[1, 2]", "want a mapping"},
	} {
		_, err := ParseThresholds("t.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseThresholds(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}
