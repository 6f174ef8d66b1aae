package sim

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/assistant"
	"brownout/contract"
	"brownout/recording"
)

// openRecording creates the run folder with its header and the vegeta
// results file. Without an output folder it does nothing.
func (p *play) openRecording() error {
	if p.outDir == "" {
		p.recClosed = true
		return nil
	}
	rec, err := recording.Create(p.outDir, p.header, p.recOpts...)
	if err != nil {
		p.recClosed = true
		return err
	}
	p.rec = rec
	vegetaOut, err := rec.Attach(recording.VegetaFile)
	if err != nil {
		return err
	}
	p.vegetaEnc = vegeta.NewEncoder(vegetaOut)
	return nil
}

// record writes one load result: its request record, classified from the
// answer, and its vegeta result, both in scenario time.
func (p *play) record(res *vegeta.Result) {
	out, reason, why := classify(int(res.Code), res.Body, res.Error)
	p.stats.add(out)
	if p.inferred {
		p.infer(res, out, reason)
	}
	latency := scenarioLatency(res.Latency, simulatedWait(res, p.waits, p.scaled.Load.Timeout.D()), p.k)
	start := p.toScenario(res.Timestamp.Sub(p.t0))
	due := p.pacer.Due(res.Seq)
	p.meter.request(p.header.PhaseAt(start), res.Timestamp.Sub(p.t0)-due)
	if reason.Canonical() == contract.ReasonCircuitOpen {
		// The breaker refused the call: the answer is the service's own
		// work alone, which time compression does not shorten.
		p.meter.localWork(res.Latency)
	}
	if p.rec == nil {
		return
	}
	answered, replica := res.Timestamp.Add(res.Latency), p.replicaOfURL[res.URL]
	r := recording.Request{
		Seq: res.Seq + 1, T: start, Intended: p.toScenario(due), Latency: latency, RealLatency: realLatency(res.Latency, p.k), Status: int(res.Code),
		Outcome: out, Reason: reason, Phase: p.header.PhaseAt(start), Error: why, Replica: p.replicaField(replica),
	}
	write := func() {
		r.Breaker = p.hist.stateAt(replica, answered)
		p.keepErr(p.rec.Request(r))
	}
	if p.delay != nil {
		p.delay.push(answered, write)
	} else {
		write()
	}
	res.Body, res.Headers = nil, nil
	res.Timestamp = p.t0.Add(start)
	res.Latency = latency
	p.keepErr(p.vegetaEnc.Encode(res))
}

// keepErr keeps the first error writing a record; delayed records may be
// written from the fake's goroutines.
func (p *play) keepErr(err error) {
	if err == nil {
		return
	}
	p.recErrMu.Lock()
	if p.recErr == nil {
		p.recErr = err
	}
	p.recErrMu.Unlock()
}

// closeRecording flushes every file and finishes the header with the
// scenario time covered.
func (p *play) closeRecording(covered time.Duration) error {
	p.recClosed = true
	if p.stopFlushes != nil {
		p.stopFlushes()
	}
	if p.rec == nil {
		return nil
	}
	return p.rec.Close(covered, time.Now(), p.interrupted)
}

// abortRecording ends the recording of a run that failed before it
// finished, marked incomplete so no report takes it for a finished run.
func (p *play) abortRecording() {
	p.recClosed = true
	if p.stopFlushes != nil {
		p.stopFlushes()
	}
	if p.rec != nil {
		p.rec.Abort(time.Now())
	}
}

// infer follows the breaker of a target without a health endpoint from its
// answers: a fallback for circuit_breaker_open (or the older circuit_open)
// or a 503 means open; an answer from the upstream means closed. A change
// happened between the end of the last answer that showed the old state
// and the end of this one.
func (p *play) infer(res *vegeta.Result, out contract.Outcome, reason contract.FallbackReason) {
	var state contract.State
	switch {
	case out == contract.OutcomeUnavailable || reason.Canonical() == contract.ReasonCircuitOpen:
		state = contract.StateOpen
	case out == contract.OutcomeUpstream:
		state = contract.StateClosed
	default:
		return
	}
	at := res.Timestamp.Add(res.Latency)
	if p.inferState == "" {
		p.inferState = contract.StateClosed
	}
	if state != p.inferState {
		name := assistant.DefaultConfig().Breaker.Name
		if len(p.header.Breakers) > 0 {
			name = p.header.Breakers[0]
		}
		since := p.inferSince
		if since.IsZero() || since.Before(p.t0) {
			since = p.t0
		}
		p.transition(Transition{Breaker: name, From: p.inferState, To: state, At: at, Resolution: max(0, at.Sub(since))})
		p.inferState = state
	}
	if at.After(p.inferSince) {
		p.inferSince = at
	}
}
