package faults

// resetFault answers with a TCP reset: the connection is hijacked, its
// linger set to 0 and closed, so the client reads ECONNRESET.
type resetFault struct{}

func newResetFault(f FaultSpec, _ buildEnv) (fault, error) {
	return resetFault{}, onlyParams(f)
}

func (resetFault) apply(ex *exchange) {
	ex.handled = true
	ex.abort(abortReset)
}
