package sim

import (
	"context"
	"errors"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/recording"
)

// attack starts the clock, the fake's timeline, the target's watchers and
// the load: vegeta sends the scenario's requests to the target's query
// URLs at the paced rate.
func (p *play) attack() {
	ep := p.running.Endpoints()
	transport := ep.Transport
	if transport == nil {
		p.loadPool = newLoopbackTransport()
		transport = p.loadPool
	}
	// Requests carry drainCtx, so an interrupted run can cut in-flight
	// requests short once the drain time is up.
	drainCtx, cancelInFlight := context.WithCancel(context.Background())
	p.cancelInFlight = cancelInFlight
	client := &http.Client{Transport: contextTransport{ctx: drainCtx, next: echoIDTransport{next: transport}}}
	load := p.scaled.Load
	p.atk = vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Timeout(load.Timeout.D()),
		vegeta.MaxWorkers(uint64(max(1, load.MaxWorkers))),
		vegeta.Workers(uint64(min(10, max(1, load.MaxWorkers)))),
		vegeta.Redirects(vegeta.NoFollow),
	)
	src := newQuestionSource(p.queries, float64(p.sc.Load.RepeatRatio), p.sc.Seed)

	p.t0 = time.Now()
	p.fake.StartTimeline(p.t0)
	if name := p.timedBreaker(); name != "" {
		p.meter.timeBreaker(name, p.scaled.Breaker.ResetTimeout.D())
	}
	p.meter.start(p.t0, p.pacer)
	p.stopFlushes = flushAtPhaseEnds(p.rec, p.header.Phases, p.t0, p.k)
	p.watch()
	p.results = p.atk.Attack(newTargeter(ep.QueryURLs, src, &requestIDs{}), p.pacer, p.pacer.Duration()+time.Millisecond, p.sc.Name)
	p.progressDone = p.startProgress(p.sc, &p.header, p.k, p.t0, p.hist, &p.stats)
}

// timedBreaker names the breaker whose open→half-open lateness the
// distortion meter can measure, or "": the built-in assistant's first
// breaker (every request reaches it first), in process with one replica,
// where transitions are exact.
func (p *play) timedBreaker() string {
	if p.external || p.replicas > 1 || !p.sc.Breaker.Enabled || len(p.header.Breakers) == 0 {
		return ""
	}
	return p.header.Breakers[0]
}

// watch runs the target's watcher until the load ends; if it reports a
// failure, collect stops the load.
func (p *play) watch() {
	ctx, cancel := context.WithCancel(context.Background())
	p.watching = cancel
	p.watchDone = make(chan struct{})
	go func() {
		defer close(p.watchDone)
		p.watchErr = p.running.Watch(ctx, p.transition)
	}()
}

// collect records each result as it arrives until the load ends. When ctx
// ends or the target fails, it stops the load and gives requests in
// flight the drain time before it cancels them.
func (p *play) collect(ctx context.Context) {
	var drainTimer <-chan time.Time
	failed := p.watchDone
	for {
		select {
		case res, ok := <-p.results:
			if !ok {
				p.elapsed = time.Since(p.t0)
				p.meter.stop()
				return
			}
			p.record(res)
		case <-ctx.Done():
			p.interrupted = true
			drainTimer = p.stopLoad()
			ctx = context.Background() // stop selecting on it
		case <-failed:
			failed = nil
			if p.watchErr != nil {
				p.interrupted = true
				drainTimer = p.stopLoad()
			}
		case <-drainTimer:
			p.cancelInFlight()
		}
	}
}

// stopLoad stops sending new requests, once, and returns when to give up
// on those in flight.
func (p *play) stopLoad() <-chan time.Time {
	if p.stoppedAt.IsZero() {
		p.stoppedAt = time.Now()
		p.atk.Stop()
	}
	return time.After(p.drain)
}

// finish stops the watcher, the target and the upstream, closes the
// recording over the scenario time it covers, and reports the run.
func (p *play) finish() (*Result, error) {
	close(p.progressDone)
	p.final(p.elapsed)
	p.watching()
	<-p.watchDone
	p.stop()
	if p.delay != nil {
		p.delay.flushAll()
	}
	// The recording covers the scenario up to its end, or up to the stop
	// of the load (the drain after it sends no new requests).
	covered := min(p.elapsed, p.pacer.Duration())
	if !p.stoppedAt.IsZero() {
		covered = min(covered, p.stoppedAt.Sub(p.t0))
	}
	distortion := p.meter.finish(p.sc, &p.header, p.pacer, covered)
	p.noteUncorrected(distortion)
	if p.rec != nil {
		p.rec.SetDistortion(distortion)
	}
	if err := errors.Join(p.recErr, p.closeRecording(p.toScenario(covered))); err != nil {
		return nil, err
	}
	if p.watchErr != nil {
		return nil, p.watchErr
	}
	out := &Result{Dir: p.outDir, Interrupted: p.interrupted, Requests: p.stats.total.Load(), Warnings: p.warnings,
		Distortion: distortion}
	if p.outDir != "" {
		h, err := recording.ReadHeader(p.outDir)
		if err != nil {
			return nil, err
		}
		out.Header = *h
	}
	return out, nil
}
