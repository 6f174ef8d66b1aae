package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SuiteFile is the manifest a suite writes next to its report.md and
// junit.xml: every scenario of the suite, which shard plays it and how it
// ended, so `brownout merge` can check and combine shard folders.
const SuiteFile = "suite.json"

// SuiteFormat is the version of the suite.json layout.
const SuiteFormat = 1

// Suite entry states.
const (
	SuitePass        = "pass"
	SuiteFail        = "fail"
	SuiteInvalid     = "invalid"     // the scenario did not parse, validate or fit the time scale
	SuiteError       = "error"       // the run broke (not a threshold verdict)
	SuiteInterrupted = "interrupted" // stopped early; its report covers what was recorded
	SuiteDistorted   = "distorted"   // the machine did not keep up with the time scale: not a pass
	SuiteNotRun      = "not run"     // the suite was interrupted before it
	SuiteOtherShard  = "other shard" // another shard plays it
)

// SuiteEntry is one scenario of a suite.
type SuiteEntry struct {
	// Name is the scenario's name, made unique within the suite; it
	// names the run folder under the suite folder.
	Name string `json:"name"`
	// Source is the argument it came from: a file or a built-in name.
	Source string `json:"source"`
	// Shard is the 1-based shard that plays it.
	Shard int `json:"shard"`
	// Status is one of the Suite* states.
	Status string `json:"status"`
	// Error explains an invalid or broken scenario.
	Error string `json:"error,omitempty"`
	// Failed lists the failed threshold conditions of a failing run.
	Failed []string `json:"failed,omitempty"`
}

// Suite is a set of scenarios played into one folder, or the part of it
// that one shard plays.
type Suite struct {
	Format  int    `json:"format"`
	Version string `json:"version"`
	// Settings are the flags every scenario was played with, as given,
	// so shards played with different settings are not merged.
	Settings []string `json:"settings"`
	// Shard and Shards say which part this folder holds (1 of 1 for the
	// whole suite).
	Shard   int          `json:"shard"`
	Shards  int          `json:"shards"`
	Entries []SuiteEntry `json:"entries"`
}

// Played are the entries this folder holds (not another shard's).
func (s *Suite) Played() []SuiteEntry {
	var out []SuiteEntry
	for _, e := range s.Entries {
		if e.Status != SuiteOtherShard {
			out = append(out, e)
		}
	}
	return out
}

// Judge fills in a played entry's failed thresholds from its run
// folder's summary.json.
func (e *SuiteEntry) Judge(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return
	}
	var sum struct {
		Thresholds []struct {
			Key       string `json:"key"`
			Condition string `json:"condition"`
			Passed    bool   `json:"passed"`
		} `json:"thresholds"`
	}
	if json.Unmarshal(b, &sum) != nil {
		return
	}
	e.Failed = nil
	for _, t := range sum.Thresholds {
		if !t.Passed {
			e.Failed = append(e.Failed, t.Key+" "+t.Condition)
		}
	}
}

// WriteSuite writes report.md, junit.xml and suite.json of the suite into
// dir, whose sub-folders <name>/ hold the played runs, and returns the
// paths written.
func (s *Suite) WriteSuite(dir string) ([]string, error) {
	s.Format = SuiteFormat
	ju, err := s.junit(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: suite %s: %w", JUnitFile, err)
	}
	js, err := encodeJSON(s)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", SuiteFile, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var files []string
	for _, f := range []struct {
		name string
		data []byte
	}{{MarkdownFile, s.markdown()}, {JUnitFile, ju}, {SuiteFile, js}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return files, fmt.Errorf("reports: %w", err)
		}
		files = append(files, p)
	}
	return files, nil
}

// ReadSuite reads dir/suite.json.
func ReadSuite(dir string) (*Suite, error) {
	b, err := os.ReadFile(filepath.Join(dir, SuiteFile))
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var s Suite
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", filepath.Join(dir, SuiteFile), err)
	}
	if s.Format != SuiteFormat {
		return nil, fmt.Errorf("reports: %s: format %d, this brownout reads %d", filepath.Join(dir, SuiteFile), s.Format, SuiteFormat)
	}
	return &s, nil
}

// Worst is the suite's exit status, the worst of its scenarios': 130 if
// any was interrupted, else 2 if any was invalid or could not be played,
// else 3 if any was distorted (the machine, not the scenario, decided it),
// else 1 if any failed a threshold, else 0.
func (s *Suite) Worst() int {
	rank := map[string]int{SuiteFail: 1, SuiteDistorted: 2, SuiteInvalid: 3, SuiteError: 3, SuiteInterrupted: 4, SuiteNotRun: 4}
	codes := []int{0, 1, 3, 2, 130}
	worst := 0
	for _, e := range s.Played() {
		worst = max(worst, rank[e.Status])
	}
	return codes[worst]
}

var suiteVerdicts = map[string]string{
	SuitePass: "✅ pass", SuiteFail: "❌ fail", SuiteInvalid: "⛔ invalid", SuiteError: "⛔ error",
	SuiteInterrupted: "⏸ interrupted", SuiteNotRun: "⏸ not run", SuiteDistorted: "⚠️ distorted",
}

// markdown renders the suite's report.md: one row per scenario played.
func (s *Suite) markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	played := s.Played()
	counts := map[string]int{}
	for _, e := range played {
		counts[e.Status]++
	}
	p("# brownout suite\n\n")
	if s.Shards > 1 {
		p("Shard %d of %d: %d of the suite's %d scenarios (merge the shards with `brownout merge`).\n\n", s.Shard, s.Shards, len(played), len(s.Entries))
	}
	var parts []string
	for _, st := range []string{SuitePass, SuiteFail, SuiteDistorted, SuiteInvalid, SuiteError, SuiteInterrupted, SuiteNotRun} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	verdict := "✅ PASS"
	if s.Worst() != 0 {
		verdict = "❌ FAIL"
	}
	p("**Verdict: %s**: %d scenarios: %s.\n\n", verdict, len(played), strings.Join(parts, ", "))
	p("| Scenario | Verdict | Failed thresholds | Report | Dashboard |\n|---|---|---|---|---|\n")
	for _, e := range played {
		why := ""
		switch {
		case e.Error != "":
			why = mdEscape(e.Error)
		case len(e.Failed) > 0:
			qs := make([]string, len(e.Failed))
			for i, f := range e.Failed {
				qs[i] = "`" + strings.ReplaceAll(f, "`", "'") + "`"
			}
			why = strings.Join(qs, "<br>")
		}
		report, dash := "–", "–"
		if e.Status != SuiteInvalid && e.Status != SuiteNotRun {
			report = fmt.Sprintf("[report](%s/%s)", e.Name, MarkdownFile)
			dash = fmt.Sprintf("[dashboard](%s/%s)", e.Name, DashboardFile)
		}
		p("| %s | %s | %s | %s | %s |\n", mdEscape(e.Name), suiteVerdicts[e.Status], why, report, dash)
	}
	return b.Bytes()
}

// junit gathers the test suite of every played scenario (its own
// junit.xml) into one document; a scenario without one (invalid, broken,
// not run) becomes a test suite with one errored case saying why.
func (s *Suite) junit(dir string) ([]byte, error) {
	doc := junitSuites{Name: "brownout"}
	for _, e := range s.Played() {
		var suites []junitSuite
		b, err := os.ReadFile(filepath.Join(dir, e.Name, JUnitFile))
		switch {
		case err == nil:
			var one junitSuites
			if err := xml.Unmarshal(b, &one); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name, JUnitFile), err)
			}
			suites = one.Suites
		case errors.Is(err, fs.ErrNotExist):
			msg := e.Error
			if msg == "" {
				msg = "the scenario was not played (" + e.Status + ")"
			}
			suites = []junitSuite{{
				Name: "brownout/" + e.Name, Tests: 1, Errors: 1, Time: "0",
				Properties: []junitProperty{{"scenario", e.Name}, {"source", e.Source}},
				Cases: []junitCase{{Name: "scenario " + e.Status, ClassName: "brownout." + e.Name, Time: "0",
					Error: &junitFailure{Message: msg, Type: e.Status, Text: msg}}},
			}}
		default:
			return nil, err
		}
		for _, su := range suites {
			doc.Tests += su.Tests
			doc.Failures += su.Failures
			doc.Errors += su.Errors
			doc.Suites = append(doc.Suites, su)
		}
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
