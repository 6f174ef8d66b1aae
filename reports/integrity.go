package reports

import (
	"fmt"
	"strings"
	"time"

	"brownout/contract"
	"brownout/recording"
)

// integrity is what a report can trust of a recording: a list of problems
// (empty for a finished run whose logs hold every record run.json counts)
// and, when there are some, the scenario time up to which every request
// record is known to be on disk.
type integrity struct {
	problems []string
	until    int64 // ns of scenario time; meaningful when problems is not empty
	last     int64 // the last activity in any log, ns of scenario time
}

// checkIntegrity compares the logs with the header. A run that never
// finished (killed, crashed) has no end in run.json; a finished one whose
// logs hold fewer or more records than run.json counts was cut short or
// tampered with afterwards. Either way the records are trusted only up to
// the last completion in the request log less the load timeout: every
// request sent before then had completed, or timed out, before the last
// record that made it to disk.
func (r *Recording) checkIntegrity() integrity {
	h := r.Header
	var in integrity
	for _, q := range r.reqs {
		in.last = max(in.last, q.t+q.lat)
	}
	for _, c := range r.calls {
		in.last = max(in.last, c.t)
	}
	for _, t := range r.transitions {
		in.last = max(in.last, int64(t.T))
	}
	switch {
	case !h.Complete && h.EndedAt.IsZero():
		in.problems = append(in.problems, "the run never finished: run.json has no end (killed, crashed, or still running)")
	case !h.Complete:
		in.problems = append(in.problems, "the run failed before it finished (run.json is not marked complete)")
	}
	if !h.EndedAt.IsZero() { // the counts are final
		for _, c := range []struct {
			file      string
			have, hdr int64
		}{
			{recording.RequestsFile, int64(len(r.reqs)), h.Counts.Requests},
			{recording.UpstreamFile, int64(len(r.calls)), h.Counts.UpstreamCalls},
			{recording.TransitionsFile, int64(len(r.transitions)), h.Counts.Transitions},
		} {
			if c.have != c.hdr {
				in.problems = append(in.problems, fmt.Sprintf("%s holds %d records but run.json counts %d", c.file, c.have, c.hdr))
			}
		}
	}
	if len(in.problems) == 0 {
		return in
	}
	var lastDone int64
	for _, q := range r.reqs {
		lastDone = max(lastDone, q.t+q.lat)
	}
	var timeout time.Duration
	if r.Scenario != nil {
		timeout = r.Scenario.Load.Timeout.D()
	}
	in.until = max(lastDone-int64(timeout), 0)
	if d := h.Duration; d > 0 {
		in.until = min(in.until, int64(d))
	}
	return in
}

// Incomplete lists what is wrong with the recording: a run that never
// finished, or logs that disagree with run.json. Empty means every record
// of the run is there.
func (r *Recording) Incomplete() []string { return r.integrity.problems }

// CompleteUntil is the scenario time up to which an incomplete recording
// holds every request; thresholds over later time are not judged.
func (r *Recording) CompleteUntil() time.Duration { return time.Duration(r.integrity.until) }

// missingInput explains why a threshold over span s cannot be judged on
// an incomplete recording, or returns "" when its input is all there.
func (r *Recording) missingInput(s span) string {
	if len(r.integrity.problems) == 0 || s.to <= r.integrity.until {
		return ""
	}
	return fmt.Sprintf("not judged: the recording is complete only up to %s, this threshold needs data up to %s",
		formatSeconds(float64(r.integrity.until)/1e9), formatSeconds(float64(s.to)/1e9))
}

// uncorrectedInput explains why a latency threshold cannot be judged on a
// compressed run whose service did not forward X-Request-Id: the waits of
// its upstream calls could not be scaled, so its latencies read partly at
// real speed and would pass a threshold they fail in scenario time. It
// returns "" when the metric is not a latency or every wait was joined.
func (r *Recording) uncorrectedInput(metric string) string {
	d := r.Header.Distortion
	if d == nil || d.UncorrectedCalls == 0 || r.Header.TimeScale == 1 || !readsLatency(metric) {
		return ""
	}
	return fmt.Sprintf("not judged: %d upstream calls named no load request (the service does not forward %s), so latencies at time scale %g are not corrected; forward the header, or run at time scale 1",
		d.UncorrectedCalls, contract.HeaderRequestID, r.Header.TimeScale)
}

// readsLatency reports whether a metric is computed from request
// latencies, which the time scale's correction rescales.
func readsLatency(metric string) bool {
	return strings.HasPrefix(metric, "latency_") || strings.HasPrefix(metric, "response_time_")
}
