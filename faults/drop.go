package faults

// dropFault drops the connection without sending a response. The reset
// kind answers with a TCP reset (the connection is hijacked, its linger set
// to 0 and closed), so the client reads ECONNRESET; the empty kind just
// closes it, so the client reads EOF.
type dropFault struct{ how abortKind }

// newDropFault is the constructor of the reset (abortReset) or empty
// (abortEmpty) kind.
func newDropFault(how abortKind) func(FaultSpec, buildEnv) (fault, error) {
	return func(f FaultSpec, _ buildEnv) (fault, error) { return dropFault{how}, onlyParams(f) }
}

func (f dropFault) apply(ex *exchange) {
	ex.handled = true
	ex.abort(f.how)
}
