package reports

import (
	"encoding/xml"
	"fmt"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junit renders junit.xml: one test case per threshold (all its
// conditions), failures carrying observed against expected. An
// interrupted run adds an errored case, so CI does not read a partial run
// as a clean one.
func junit(r *Recording, rep *Report) ([]byte, error) {
	h := r.Header
	class := "brownout." + h.Scenario
	suite := junitSuite{
		Name: "brownout/" + h.Scenario,
		Time: "0",
		Properties: []junitProperty{
			{"scenario", h.Scenario},
			{"seed", fmt.Sprint(h.Seed)},
			{"time_scale", trimFloat(h.TimeScale, 6)},
			{"duration", r.Duration().String()},
			{"interrupted", fmt.Sprint(h.Interrupted)},
		},
	}
	for i := 0; i < len(rep.Verdicts); {
		key := rep.Verdicts[i].Threshold.Key
		j := i
		var conds, lines []string
		failed, errored := false, false
		for ; j < len(rep.Verdicts) && rep.Verdicts[j].Threshold.Key == key; j++ {
			v := rep.Verdicts[j]
			conds = append(conds, v.Condition.String())
			switch {
			case v.Err != "":
				errored = true
				lines = append(lines, fmt.Sprintf("%s: %s", v.Condition.String(), v.Err))
			case !v.Passed:
				failed = true
				lines = append(lines, fmt.Sprintf("observed %s, expected %s", v.Display, v.Condition.String()))
			default:
				lines = append(lines, fmt.Sprintf("observed %s, %s holds", v.Display, v.Condition.String()))
			}
		}
		c := junitCase{Name: key + " " + strings.Join(conds, ", "), ClassName: class, Time: "0"}
		msg := strings.Join(lines, "; ")
		switch {
		case errored:
			c.Error = &junitFailure{Message: msg, Type: "threshold", Text: msg}
			suite.Errors++
		case failed:
			c.Failure = &junitFailure{Message: msg, Type: "threshold", Text: msg}
			suite.Failures++
		default:
			c.SystemOut = msg
		}
		suite.Cases = append(suite.Cases, c)
		i = j
	}
	if h.Interrupted {
		msg := fmt.Sprintf("the run was interrupted after %s of scenario time; thresholds were judged on what was recorded", formatSeconds(r.Duration().Seconds()))
		suite.Cases = append(suite.Cases, junitCase{Name: "run completed", ClassName: class, Time: "0",
			Error: &junitFailure{Message: msg, Type: "interrupted", Text: msg}})
		suite.Errors++
	}
	if r.distorted() {
		// A distorted run is never a pass: CI that reads only the JUnit
		// file must see it too, not a green suite.
		msg := fmt.Sprintf("this machine did not keep up with time scale %s: %s; the recording shows the machine, not the scenario",
			trimFloat(h.TimeScale, 6), strings.Join(h.Distortion.Reasons, "; "))
		suite.Cases = append(suite.Cases, junitCase{Name: "run kept up with the time scale", ClassName: class, Time: "0",
			Error: &junitFailure{Message: msg, Type: "distorted", Text: msg}})
		suite.Errors++
	}
	if len(rep.Incomplete) > 0 {
		msg := fmt.Sprintf("the recording is incomplete: %s; every record is there only up to %s of scenario time, and thresholds that need later data were not judged",
			strings.Join(rep.Incomplete, "; "), formatSeconds(rep.CompleteUntil.Seconds()))
		suite.Cases = append(suite.Cases, junitCase{Name: "recording complete", ClassName: class, Time: "0",
			Error: &junitFailure{Message: msg, Type: "incomplete", Text: msg}})
		suite.Errors++
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "brownout", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
