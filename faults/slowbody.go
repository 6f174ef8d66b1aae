package faults

import "fmt"

// slowBodyFault dribbles the response body at a fixed number of bytes per
// second (in slices of a tenth of a second), after the normal time to first
// token. A whole body of n bytes takes n/BytesPerSecond.
type slowBodyFault struct{ bps int }

func newSlowBodyFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "bytes_per_second"); err != nil {
		return nil, err
	}
	if f.BytesPerSecond <= 0 {
		return nil, fmt.Errorf("bytes_per_second: must be > 0, got %d", f.BytesPerSecond)
	}
	return slowBodyFault{bps: f.BytesPerSecond}, nil
}

func (f slowBodyFault) apply(ex *exchange) { ex.bytesPerSec = f.bps }
