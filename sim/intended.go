package sim

import (
	"time"

	"brownout/recording"
)

// Due is when hit n (vegeta's Result.Seq, counted from 0) is due by the
// rate pattern: the earliest elapsed time at which the expected number of
// hits reaches n+1, the same instant Pace waits for. A request sent later
// than its due time was held back by the load generator (every worker
// busy), which is what coordinated omission hides; recording the due time
// lets reports measure latency from it. Hits past the pattern's expected
// total are due at its end.
func (p *PhasePacer) Due(n uint64) time.Duration {
	due := float64(n) + 1
	if due > p.hitsAt {
		return p.total
	}
	lo, hi := time.Duration(0), p.total
	for hi-lo > time.Microsecond/10 {
		mid := lo + (hi-lo)/2
		if p.expected(mid) >= due {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// WithRecordingOptions passes options to recording.Create, e.g.
// recording.Replace to let a run replace an earlier one in its folder.
func WithRecordingOptions(opts ...recording.CreateOption) Option {
	return func(r *runner) { r.recOpts = append(r.recOpts, opts...) }
}

// flushAtPhaseEnds flushes the recording at the real time each phase ends,
// on top of the Writer's periodic flush, so a run killed early in a phase
// still has the previous phase on disk in full. The returned func stops
// the timers still pending.
func flushAtPhaseEnds(rec *recording.Writer, phases []recording.PhaseSpan, t0 time.Time, k float64) (stop func()) {
	if rec == nil {
		return func() {}
	}
	timers := make([]*time.Timer, 0, len(phases))
	for _, p := range phases {
		at := t0.Add(time.Duration(float64(p.End) / k))
		timers = append(timers, time.AfterFunc(time.Until(at), func() { rec.Flush() }))
	}
	return func() {
		for _, t := range timers {
			t.Stop()
		}
	}
}
