package sim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/recording"
)

// openRecording creates the run folder with its header and the vegeta
// results file. Without an output folder it does nothing.
func (p *play) openRecording() error {
	if p.outDir == "" {
		p.recClosed = true
		return nil
	}
	rec, err := recording.Create(p.outDir, p.header)
	if err != nil {
		p.recClosed = true
		return err
	}
	p.rec = rec
	if p.vegetaFile, err = os.Create(filepath.Join(p.outDir, recording.VegetaFile)); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	p.vegetaOut = bufio.NewWriterSize(p.vegetaFile, 256<<10)
	p.vegetaEnc = vegeta.NewEncoder(p.vegetaOut)
	return nil
}

// record writes one load result: its request record, classified from the
// answer, and its vegeta result, both in scenario time.
func (p *play) record(res *vegeta.Result) {
	out, reason, why := classify(int(res.Code), res.Body, res.Error)
	p.stats.add(out)
	latency := scenarioLatency(res.Latency, simulatedWait(res, p.waits, p.scaled.Load.Timeout.D()), p.k)
	start := p.toScenario(res.Timestamp.Sub(p.t0))
	p.meter.request(p.header.PhaseAt(start))
	if p.rec == nil {
		return
	}
	p.keepErr(p.rec.Request(recording.Request{
		Seq: res.Seq + 1, T: start, Latency: latency, RealLatency: realLatency(res.Latency, p.k), Status: int(res.Code),
		Outcome: out, Reason: reason, Phase: p.header.PhaseAt(start),
		Breaker: p.hist.stateAt(p.replicaOfURL[res.URL], res.Timestamp.Add(res.Latency)), Error: why,
	}))
	res.Body, res.Headers = nil, nil
	res.Timestamp = p.t0.Add(start)
	res.Latency = latency
	p.keepErr(p.vegetaEnc.Encode(res))
}

// keepErr keeps the first error writing a record.
func (p *play) keepErr(err error) {
	if err != nil && p.recErr == nil {
		p.recErr = err
	}
}

// closeRecording flushes every file and finishes the header with the
// scenario time covered.
func (p *play) closeRecording(covered time.Duration) error {
	p.recClosed = true
	var err error
	if p.vegetaFile != nil {
		err = errors.Join(p.vegetaOut.Flush(), p.vegetaFile.Close())
	}
	if p.rec != nil {
		err = errors.Join(err, p.rec.Close(covered, time.Now(), p.interrupted))
	}
	return err
}
