package faults

import "fmt"

// latencyFault adds a delay drawn from a distribution before the first
// byte of an otherwise healthy answer: a latency spike. The delay is spent
// in service, so it holds a capacity slot like a slow model would.
type latencyFault struct {
	d   Dist
	rnd *lockedRand
}

func newLatencyFault(f FaultSpec, env buildEnv) (fault, error) {
	if err := onlyParams(f, "latency"); err != nil {
		return nil, err
	}
	if f.Latency == nil || f.Latency.Dist == "" {
		return nil, fmt.Errorf("latency: %w (e.g. dist: lognormal, median: 2s, p99: 20s)", errNoDist)
	}
	d, err := newDist(*f.Latency)
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	return &latencyFault{d: d, rnd: env.rnd}, nil
}

func (f *latencyFault) apply(ex *exchange) { ex.extraDelay += f.rnd.Sample(f.d) }
