package scenarios_test

import (
	"errors"
	"fmt"
	"strings"

	"brownout/scenarios"
)

// Parse reads a scenario file strictly and fills in every default; the
// smallest valid scenario is a list of phases.
func ExampleParse() {
	sc, err := scenarios.Parse("incident.yaml", []byte(`
phases:
  - {name: steady, duration: 60s}
  - name: outage
    duration: 90s
    faults:
      - {kind: status, body: model_loading}
thresholds:
  "fallback_ratio{phase:outage}": [">= 95%"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sc.Name, sc.TotalDuration(), sc.Breaker.FailThreshold, sc.Breaker.ResetTimeout.D())
	th := sc.Thresholds[0]
	fmt.Println(th.Metric, th.Filters.Phase, th.Conditions[0])
	// Output:
	// incident 2m30s 5 1m0s
	// fallback_ratio outage >= 95%
}

// A bad file gets every error at once, each with its file:line:column,
// the field and what is wrong (the message goes on to say what would be
// valid: the keys of the section, a "did you mean").
func ExampleParse_errors() {
	_, err := scenarios.Parse("bad.yaml", []byte(`breaker:
  fail_treshold: 5
  reset_timeout: 60
phases:
  - {name: steady, duration: 60s}
`))
	var list *scenarios.ErrorList
	if errors.As(err, &list) {
		for _, e := range list.Errors {
			what, _, _ := strings.Cut(e.Message, ";")
			fmt.Printf("%s:%d:%d: %s: %s\n", e.File, e.Line, e.Column, e.Path, what)
		}
	}
	// Output:
	// bad.yaml:2:3: breaker.fail_treshold: unknown key "fail_treshold"
	// bad.yaml:3:18: breaker.reset_timeout: found integer 60, want a duration with a unit, e.g. "60s" or "60ms"
}
