package faults

// emptyFault closes the connection without sending a byte of response; the
// client reads EOF.
type emptyFault struct{}

func newEmptyFault(f FaultSpec, _ buildEnv) (fault, error) {
	return emptyFault{}, onlyParams(f)
}

func (emptyFault) apply(ex *exchange) {
	ex.handled = true
	ex.abort(abortEmpty)
}
