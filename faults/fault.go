package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A fault perturbs one request once the server has decided it fires. It
// either answers the request itself (setting ex.handled) or adjusts the
// plan of the normal answer (extra delay, pacing, a cut, a wrong header),
// which the server then serves. Anything that blocks must honour the
// request's context and the server's shutdown (use ex.sleep and ex.hang).
//
// Selection (rate, first, every, after) is not a fault's business: the
// server applies it once, before apply is called.
type fault interface {
	apply(ex *exchange)
}

// buildEnv is what constructors may use: the served model and the timing
// generator.
type buildEnv struct {
	model string
	rnd   *lockedRand
}

// kinds is the explicit registry of fault kinds.
var kinds = map[string]func(FaultSpec, buildEnv) (fault, error){
	"status":             newStatusFault,
	"latency":            newLatencyFault,
	"hang":               newHangFault,
	"reset":              newDropFault(abortReset),
	"empty":              newDropFault(abortEmpty),
	"malformed":          newMalformedFault,
	"wrong_content_type": newContentTypeFault,
	"slow_body":          newSlowBodyFault,
	"stream_cut":         newStreamCutFault,
	"stream_error":       newStreamErrorFault,
}

// Kinds lists the fault kinds in alphabetical order.
func Kinds() []string { return slices.Sorted(maps.Keys(kinds)) }

// buildFault looks the kind up and builds it from its parameters.
func buildFault(f FaultSpec, env buildEnv) (fault, error) {
	mk, ok := kinds[f.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q (want one of %s)", f.Kind, strings.Join(Kinds(), ", "))
	}
	return mk(f, env)
}

// onlyParams fails when f sets a parameter that its kind does not read, so
// a typo'd YAML key or a misplaced option is not silently ignored.
func onlyParams(f FaultSpec, allowed ...string) error {
	set := []struct {
		name string
		set  bool
	}{
		{"code", f.Code != 0}, {"body", f.Body != ""}, {"retry_after", f.RetryAfter != 0},
		{"estimated_time", f.EstimatedTime != 0}, {"latency", f.Latency != nil},
		{"duration", f.Duration != 0}, {"mode", f.Mode != ""}, {"content_type", f.ContentType != ""},
		{"bytes_per_second", f.BytesPerSecond != 0}, {"tokens", f.Tokens != 0}, {"message", f.Message != ""},
	}
	var bad []string
	for _, p := range set {
		if p.set && !slices.Contains(allowed, p.name) {
			bad = append(bad, p.name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: not a parameter of kind %q", strings.Join(bad, ", "), f.Kind)
	}
	return nil
}
