package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"brownout/reports"
)

// passingRun is shortRun without its impossible threshold.
var passingRun = strings.Replace(strings.Replace(shortRun, `  "breaker_opens{phase:outage}": ["== 0"]`+"\n", "", 1), "name: short-run", "name: suite-pass", 1)

// failingRun is shortRun under another name: it fails one threshold.
var failingRun = strings.Replace(shortRun, "name: short-run", "name: suite-fail", 1)

// writeSuite writes a passing, a failing and an invalid scenario into a
// folder and returns it.
func writeSuite(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "scenarios")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"a-pass.yaml":    passingRun,
		"b-fail.yaml":    failingRun,
		"c-invalid.yaml": "name: broken\nphases:\n  - {name: a, duration: 10}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// TestSuitePassFailInvalid plays a folder with a passing, a failing and an
// invalid scenario: the exit status is the worst (2, invalid), and the
// JUnit file and the report say which did what.
func TestSuitePassFailInvalid(t *testing.T) {
	dir := writeSuite(t)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, run, "run", dir, "--out", out, "--quiet")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (an invalid scenario)\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
	}
	for _, want := range []string{"scenario 1 of 3: suite-pass", "scenario 2 of 3: suite-fail", "scenario 3 of 3: c-invalid: invalid"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	doc := readJUnit(t, filepath.Join(out, "junit.xml"))
	if len(doc.Suites) != 3 || doc.Failures != 1 || doc.Errors != 1 {
		t.Fatalf("junit: %d suites, %d failures, %d errors; want 3, 1, 1: %+v", len(doc.Suites), doc.Failures, doc.Errors, doc)
	}
	if s := doc.Suites[0]; s.Name != "brownout/suite-pass" || s.Failures+s.Errors != 0 {
		t.Errorf("first suite %+v: want suite-pass, clean", s)
	}
	if s := doc.Suites[1]; s.Name != "brownout/suite-fail" || s.Failures != 1 {
		t.Errorf("second suite %+v: want suite-fail with one failure", s)
	}
	if s := doc.Suites[2]; s.Name != "brownout/c-invalid" || s.Errors != 1 || s.Cases[0].Error == nil || !strings.Contains(s.Cases[0].Error.Message, "c-invalid.yaml:3") {
		t.Errorf("third suite %+v: want c-invalid errored with the file:line of its error", s)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| suite-pass | ✅ pass |  | [report](suite-pass/report.md) | [dashboard](suite-pass/dashboard.png) |",
		"| suite-fail | ❌ fail | `breaker_opens{phase:outage} == 0` | [report](suite-fail/report.md)",
		"| c-invalid | ⛔ invalid | ",
		"1 pass, 1 fail, 1 invalid",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"suite-pass/dashboard.png", "suite-fail/report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	t.Run("shards and merge", func(t *testing.T) { checkSuiteShardsMerge(t, dir, out) })
}

// checkSuiteShardsMerge plays the suite in dir as two shards and merges
// them: each scenario plays exactly once, and the merged report and JUnit
// are the unsharded ones (the suite played whole into whole).
func checkSuiteShardsMerge(t *testing.T, dir, whole string) {
	tmp := t.TempDir()
	var shardDirs []string
	played := map[string]int{}
	for _, s := range []string{"2/2", "1/2"} {
		d := filepath.Join(tmp, "shard-"+s[:1])
		shardDirs = append(shardDirs, d)
		code, stdout, stderr := runCmd(t, run, "run", dir, "--out", d, "--quiet", "--shard", s)
		if code != exitOK && code != exitFailed && code != exitUsage {
			t.Fatalf("shard %s: exit %d\n%s\n%s", s, code, stdout, stderr)
		}
		st, err := reports.ReadSuite(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range st.Played() {
			played[e.Name]++
		}
	}
	if len(played) != 3 || played["suite-pass"] != 1 || played["suite-fail"] != 1 || played["c-invalid"] != 1 {
		t.Fatalf("shards played %v: want each scenario once", played)
	}
	merged := filepath.Join(tmp, "merged")
	code, stdout, stderr := runCmd(t, run, append([]string{"merge", "--out", merged}, shardDirs...)...)
	if code != exitUsage {
		t.Fatalf("merge: exit %d, want the suite's %d\n%s\n%s", code, exitUsage, stdout, stderr)
	}
	for _, f := range []string{"report.md", "suite.json"} {
		a, err1 := os.ReadFile(filepath.Join(whole, f))
		b, err2 := os.ReadFile(filepath.Join(merged, f))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(a) != string(b) {
			t.Errorf("merged %s differs from the whole suite's:\n%s\n---\n%s", f, b, a)
		}
	}
	wj, mj := readJUnit(t, filepath.Join(whole, "junit.xml")), readJUnit(t, filepath.Join(merged, "junit.xml"))
	if len(wj.Suites) != len(mj.Suites) || wj.Failures != mj.Failures || wj.Errors != mj.Errors {
		t.Errorf("merged junit %+v differs from the whole suite's %+v", mj, wj)
	}
	for i := range wj.Suites {
		if wj.Suites[i].Name != mj.Suites[i].Name {
			t.Errorf("junit suite %d: %s, want %s", i, mj.Suites[i].Name, wj.Suites[i].Name)
		}
	}
	if _, err := os.Stat(filepath.Join(merged, "suite-fail", "dashboard.png")); err != nil {
		t.Errorf("merged folder lacks the run folders: %v", err)
	}

	// An incomplete set is refused, naming what is missing.
	code, _, stderr = runCmd(t, run, "merge", "--out", filepath.Join(tmp, "partial"), shardDirs[0])
	if code != exitUsage || !strings.Contains(stderr, "missing shard 1 of 2") {
		t.Errorf("merging one of two shards: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestRunAB plays the short scenario with the breaker off and on and
// checks the comparison says what the breaker changed.
func TestRunAB(t *testing.T) {
	path := writeScenario(t, passingRun)
	out := filepath.Join(t.TempDir(), "ab")
	code, stdout, stderr := runCmd(t, run, "run", path, "--ab", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d, want 0 (the breaker-on run passes)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, reports.CompareJSON))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Base, New struct {
			Label    string
			Settings struct {
				Seed    int64
				Breaker struct{ Enabled bool }
			}
		}
		Overall map[string]struct{ Base, New any }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Base.Label != "breaker off" || doc.New.Label != "breaker on" || doc.Base.Settings.Breaker.Enabled || !doc.New.Settings.Breaker.Enabled {
		t.Errorf("sides: %+v / %+v", doc.Base, doc.New)
	}
	if doc.Base.Settings.Seed != doc.New.Settings.Seed {
		t.Errorf("seeds %d and %d: want the same", doc.Base.Settings.Seed, doc.New.Settings.Seed)
	}
	opens := doc.Overall["breaker_opens"]
	if opens.Base != 0.0 || opens.New == 0.0 {
		t.Errorf("breaker_opens off %v, on %v: want 0 and at least 1", opens.Base, opens.New)
	}
	fails := doc.Overall["upstream_failures"]
	if fb, fn := fails.Base.(float64), fails.New.(float64); fn >= fb {
		t.Errorf("upstream_failures off %v, on %v: the breaker should spare the failing upstream", fb, fn)
	}
	for _, f := range []string{"off/dashboard.png", "on/dashboard.png", reports.ComparePNG, reports.CompareMarkdown} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// --fail-on-style bounds are compare's: a regression of the on run
	// against the off one trips it.
	code, stdout, _ = runCmd(t, run, "compare", filepath.Join(out, "off"), filepath.Join(out, "on"), "--out", filepath.Join(out, "c2"), "--fail-on", "breaker_opens:+0")
	if code != exitFailed || !strings.Contains(stdout, "EXCEEDED breaker_opens:+0") {
		t.Errorf("compare --fail-on breaker_opens:+0: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runCmd(t, run, "compare", filepath.Join(out, "off"), filepath.Join(out, "on"), "--fail-on", "latency_p99:+2pp")
	if code != exitUsage || !strings.Contains(stderr, "not a ratio") {
		t.Errorf("compare with a bad bound: exit %d\n%s", code, stderr)
	}
}

// TestSuiteInterruptedBeforeStart: a suite stopped before its first
// scenario plays nothing, marks every scenario "not run" and exits 130.
func TestSuiteInterruptedBeforeStart(t *testing.T) {
	dir := writeSuite(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"run", dir, "--out", out, "--quiet"}, &stdout, &stderr); code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitInterrupted, stdout.String(), stderr.String())
	}
	st, err := reports.ReadSuite(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Entries {
		if e.Status != reports.SuiteNotRun {
			t.Errorf("%s: %s, want not run", e.Name, e.Status)
		}
	}
	doc := readJUnit(t, filepath.Join(out, "junit.xml"))
	if len(doc.Suites) != 3 || doc.Errors != 3 {
		t.Errorf("junit: %d suites, %d errors: want 3 errored", len(doc.Suites), doc.Errors)
	}
}

func TestLastError(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"brownout: playing x\nbrownout run: warning: slow\nbrownout run: open x: no such file\n", "open x: no such file"},
		{"brownout run: out/x holds a run\nbrownout run: use --force to replace it\n", "out/x holds a run; use --force to replace it"},
		{"progress line\n", "the run failed (see its output)"},
	} {
		if got := lastError(tc.in); got != tc.want {
			t.Errorf("lastError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
