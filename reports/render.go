package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// Names of the files Render writes into the run folder.
const (
	DashboardFile = "dashboard.png"
	BreakerFile   = "breaker.png"
	OutcomesFile  = "outcomes.png"
	LatencyFile   = "latency.png"
	UpstreamFile  = "upstream.png"
	SummaryFile   = "summary.json"
	MarkdownFile  = "report.md"
	JUnitFile     = "junit.xml"
)

// OutputFiles names every file Render writes, so a new run into a folder
// can delete the outputs of an earlier one (recording.Derived).
var OutputFiles = []string{DashboardFile, BreakerFile, OutcomesFile, LatencyFile, UpstreamFile, SummaryFile, MarkdownFile, JUnitFile}

// Options tune Render.
type Options struct {
	// Thresholds replace the scenario's own thresholds when not nil, so
	// tighter limits can be judged on an existing recording.
	Thresholds []scenarios.Threshold
}

// Report is the result of rendering a run folder.
type Report struct {
	// Summary is what summary.json holds.
	Summary *Summary
	// Verdicts are the threshold verdicts, one per condition, in order.
	Verdicts []Verdict
	// Passed reports whether every condition passed and the run was not
	// distorted: a distorted run is never a pass.
	Passed bool
	// Distortion is the run's time-compression checks (nil in recordings
	// made before them); Distortion.Distorted makes Passed false.
	Distortion *recording.Distortion
	// Interrupted reports that the run was stopped early; the report
	// covers what was recorded.
	Interrupted bool
	// Incomplete lists what is wrong with the recording (a run that never
	// finished, logs that disagree with run.json); such a report never
	// passes, and thresholds over the missing part are not judged.
	Incomplete []string
	// CompleteUntil is the scenario time up to which an incomplete
	// recording holds every request.
	CompleteUntil time.Duration
	// Shortfalls are the phases (and the whole run) in which the load
	// generator sent fewer requests than the scenario asked for.
	Shortfalls []Shortfall
	// Files are the paths written, in the order written.
	Files []string
}

// Render loads the run folder dir, evaluates the thresholds (the
// scenario's own unless opts gives others) and writes dashboard.png,
// breaker.png, outcomes.png, latency.png, upstream.png, summary.json,
// report.md and junit.xml into dir. A threshold that does not fit the
// recording (e.g. a phase the run lacks) is an error, and nothing is
// written.
func Render(dir string, opts Options) (*Report, error) {
	return RenderContext(context.Background(), dir, opts)
}

// RenderContext is Render that gives up when ctx ends (an interrupt while
// a long recording renders): it returns ctx's error before it writes any
// file, or between two files, each of which is replaced whole.
func RenderContext(ctx context.Context, dir string, opts Options) (*Report, error) {
	r, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return renderRecording(ctx, r, opts)
}

// RenderRecording is [Render] for a run already loaded with [Load], so a
// caller that needs more from the recording (a sweep's run-only metrics)
// reads its files once.
func RenderRecording(r *Recording, opts Options) (*Report, error) {
	return renderRecording(context.Background(), r, opts)
}

func renderRecording(ctx context.Context, r *Recording, opts Options) (*Report, error) {
	ths := opts.Thresholds
	if ths == nil && r.Scenario != nil {
		ths = r.Scenario.Thresholds
	}
	if err := r.Check(ths); err != nil {
		return nil, err
	}
	vs := Evaluate(r, ths)
	rep := &Report{
		Verdicts:      vs,
		Passed:        allPassed(vs) && !r.distorted() && len(r.Incomplete()) == 0,
		Interrupted:   r.Header.Interrupted,
		Distortion:    r.Header.Distortion,
		Incomplete:    r.Incomplete(),
		CompleteUntil: r.CompleteUntil(),
		Shortfalls:    r.shortfalls(),
	}
	write := func(name string, data []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(r.Dir, name)
		if err := writeAtomic(p, data); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		rep.Files = append(rep.Files, p)
		return nil
	}

	// The plots are independent of each other and of the summary: draw
	// them concurrently, at most one per CPU, while the summary is computed.
	ts := r.series()
	plots := []struct {
		name string
		draw func(*series, *Report) ([]byte, error)
		png  []byte
		err  error
	}{
		{name: DashboardFile, draw: r.dashboardPNG},
		{name: BreakerFile, draw: r.breakerPNG},
		{name: OutcomesFile, draw: r.outcomesPNG},
		{name: LatencyFile, draw: r.latencyPNG},
		{name: UpstreamFile, draw: r.upstreamPNG},
	}
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	var wg sync.WaitGroup
	for i := range plots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			plots[i].png, plots[i].err = plots[i].draw(ts, rep)
		}()
	}
	rep.Summary = Summarize(r, vs)
	wg.Wait()
	for _, pl := range plots {
		if pl.err != nil {
			return nil, fmt.Errorf("reports: %s: %w", pl.name, pl.err)
		}
		if err := write(pl.name, pl.png); err != nil {
			return nil, err
		}
	}
	js, err := encodeJSON(rep.Summary)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", SummaryFile, err)
	}
	if err := write(SummaryFile, js); err != nil {
		return nil, err
	}
	if err := write(MarkdownFile, markdown(r, rep)); err != nil {
		return nil, err
	}
	jx, err := junit(r, rep)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", JUnitFile, err)
	}
	if err := write(JUnitFile, jx); err != nil {
		return nil, err
	}
	return rep, nil
}

// failed counts the verdicts that did not pass.
func (rep *Report) failed() int {
	n := 0
	for _, v := range rep.Verdicts {
		if !v.Passed {
			n++
		}
	}
	return n
}

// Check reports every threshold whose metric or filters do not fit the
// recording, e.g. a phase the run does not have, all at once.
func (r *Recording) Check(ths []scenarios.Threshold) error {
	var errs []error
	for _, th := range ths {
		if _, err := r.resolve(th); err != nil {
			errs = append(errs, fmt.Errorf("threshold %s: %w", th.Key, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("reports: %w", errors.Join(errs...))
	}
	return nil
}

// WriteTable writes the threshold table for a terminal: threshold,
// observed value with unit, verdict; then the overall verdict.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "THRESHOLD\tOBSERVED\tVERDICT")
	for _, v := range rep.Verdicts {
		verdict := "pass"
		if !v.Passed {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name(), v.observed(), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var err error
	switch {
	case len(rep.Incomplete) > 0 && rep.failed() == 0:
		_, err = fmt.Fprintf(w, "%d of %d thresholds passed on an incomplete recording: FAIL\n", len(rep.Verdicts), len(rep.Verdicts))
	case len(rep.Verdicts) == 0 && rep.Passed:
		_, err = fmt.Fprintln(w, "no thresholds to judge: PASS")
	case len(rep.Verdicts) == 0:
		_, err = fmt.Fprintln(w, "no thresholds to judge, but the run is DISTORTED: not a pass")
	case rep.Passed:
		_, err = fmt.Fprintf(w, "%d of %d thresholds passed: PASS\n", len(rep.Verdicts)-rep.failed(), len(rep.Verdicts))
	case rep.failed() == 0:
		_, err = fmt.Fprintf(w, "%d of %d thresholds passed, but the run is DISTORTED: not a pass\n", len(rep.Verdicts), len(rep.Verdicts))
	default:
		_, err = fmt.Fprintf(w, "%d of %d thresholds failed: FAIL\n", rep.failed(), len(rep.Verdicts))
	}
	if err == nil {
		err = rep.writeDistortion(w)
	}
	if err == nil && rep.Interrupted {
		_, err = fmt.Fprintln(w, "the run was interrupted: figures cover only what was recorded")
	}
	if err == nil && len(rep.Incomplete) > 0 {
		_, err = fmt.Fprintf(w, "INCOMPLETE recording, so no PASS: %s; every record is there only up to %s of scenario time\n",
			strings.Join(rep.Incomplete, "; "), formatSeconds(rep.CompleteUntil.Seconds()))
	}
	for _, s := range rep.Shortfalls {
		if err == nil {
			_, err = fmt.Fprintln(w, s.warning())
		}
	}
	return err
}

// writeAtomic replaces path with data through a temporary file and a
// rename, so a reader (or a crash) never sees half a report file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(0o644), f.Close()); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
