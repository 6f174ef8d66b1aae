package sim

import (
	"sync/atomic"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// liveStats counts outcomes as results arrive, for the progress line.
type liveStats struct {
	total, fallback, unavailable atomic.Int64
}

func (s *liveStats) add(o contract.Outcome) {
	s.total.Add(1)
	switch o {
	case contract.OutcomeCache, contract.OutcomeExcerpts:
		s.fallback.Add(1)
	case contract.OutcomeUnavailable:
		s.unavailable.Add(1)
	}
}

// progressTracker turns counter deltas into per-interval shares.
type progressTracker struct {
	sc                  *scenarios.Scenario
	header              *recording.Header
	k                   float64
	t0                  time.Time
	hist                *breakerHistory
	stats               *liveStats
	lastT               time.Time
	lastN, lastF, lastU int64
}

func (p *progressTracker) snapshot(now time.Time, done bool) Progress {
	n, f, u := p.stats.total.Load(), p.stats.fallback.Load(), p.stats.unavailable.Load()
	dn := n - p.lastN
	pr := Progress{
		Elapsed:  time.Duration(float64(now.Sub(p.t0)) * p.k),
		Total:    p.sc.TotalDuration(),
		Breaker:  p.hist.current(0),
		Requests: n,
		Done:     done,
	}
	pr.Elapsed = min(pr.Elapsed, pr.Total)
	pr.Phase = p.header.PhaseAt(pr.Elapsed)
	if dt := now.Sub(p.lastT); dt > 0 {
		pr.Rate = float64(dn) / (dt.Seconds() * p.k)
	}
	if dn > 0 {
		pr.Fallback = float64(f-p.lastF) / float64(dn)
		pr.Unavailable = float64(u-p.lastU) / float64(dn)
	}
	p.lastT, p.lastN, p.lastF, p.lastU = now, n, f, u
	return pr
}

// startProgress reports progress every r.progressEvery until done is closed.
func (r *runner) startProgress(sc *scenarios.Scenario, header *recording.Header, k float64, t0 time.Time, hist *breakerHistory, stats *liveStats) chan struct{} {
	done := make(chan struct{})
	r.tracker = &progressTracker{sc: sc, header: header, k: k, t0: t0, lastT: t0, hist: hist, stats: stats}
	if r.progress == nil || r.progressEvery <= 0 {
		return done
	}
	r.progressWG.Add(1)
	go func() {
		defer r.progressWG.Done()
		tick := time.NewTicker(r.progressEvery)
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				r.progress(r.tracker.snapshot(now, false))
			case <-done:
				return
			}
		}
	}()
	return done
}

// final waits for the progress goroutine and reports the last snapshot.
func (r *runner) final(elapsed time.Duration) {
	r.progressWG.Wait()
	if r.progress != nil {
		r.progress(r.tracker.snapshot(r.tracker.t0.Add(elapsed), true))
	}
}
