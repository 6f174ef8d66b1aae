package faults

import (
	"cmp"
	"fmt"
	"time"
)

// hangFault accepts the request and never answers. It ends when the client
// gives up, the server shuts down or max passes, and then closes the
// connection without a response, so nothing leaks.
type hangFault struct{ max time.Duration }

func newHangFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "duration"); err != nil {
		return nil, err
	}
	if f.Duration < 0 {
		return nil, fmt.Errorf("duration: must be >= 0, got %v", f.Duration)
	}
	return &hangFault{max: cmp.Or(f.Duration, DefaultHang)}, nil
}

func (f *hangFault) apply(ex *exchange) {
	ex.handled = true
	ex.hang(f.max)
}
