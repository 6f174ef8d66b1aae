package reports

import (
	"math"
	"slices"
	"time"
)

// series is the run cut into time buckets for the plots.
type series struct {
	width  time.Duration // bucket width
	n      int           // number of buckets
	end    time.Duration // run duration
	unit   timeUnit      // x axis unit
	reqs   []int64
	byOut  [][numOutcomes]int64
	p50    []float64 // ms, NaN for an empty bucket
	p95    []float64
	p99    []float64
	okCall []int64 // upstream calls that succeeded
	badCal []int64 // upstream calls that failed
}

// timeUnit is the unit of the plots' time axis, chosen by run length.
type timeUnit struct {
	name string
	sec  float64 // seconds per unit
}

func unitFor(d time.Duration) timeUnit {
	switch {
	case d <= 10*time.Minute:
		return timeUnit{"s", 1}
	case d <= 10*time.Hour:
		return timeUnit{"min", 60}
	}
	return timeUnit{"h", 3600}
}

// x converts scenario time to axis units.
func (u timeUnit) x(t time.Duration) float64 { return t.Seconds() / u.sec }

// niceWidths are the bucket widths a plot may use.
var niceWidths = []time.Duration{
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour,
}

// targetBuckets is about how many buckets a plot spans the run with.
const targetBuckets = 200

// bucketWidth picks the round width that cuts d into the number of buckets
// closest to targetBuckets (on a log scale).
func bucketWidth(d time.Duration) time.Duration {
	best, bestDist := niceWidths[0], math.Inf(1)
	for _, w := range niceWidths {
		n := float64(d) / float64(w)
		dist := math.Abs(math.Log(n / targetBuckets))
		if n > 0 && dist < bestDist {
			best, bestDist = w, dist
		}
	}
	return best
}

// series buckets the recording for the plots.
func (r *Recording) series() *series {
	return r.seriesOver(r.Duration())
}

// seriesOver buckets the recording over [0, end), so two runs compared on
// one axis share their buckets.
func (r *Recording) seriesOver(end time.Duration) *series {
	if end <= 0 {
		end = time.Second
	}
	s := &series{end: end, unit: unitFor(end), width: bucketWidth(end)}
	s.n = int((end + s.width - 1) / s.width)
	s.reqs = make([]int64, s.n)
	s.byOut = make([][numOutcomes]int64, s.n)
	s.p50, s.p95, s.p99 = nanSlice(s.n), nanSlice(s.n), nanSlice(s.n)
	s.okCall = make([]int64, s.n)
	s.badCal = make([]int64, s.n)

	var lats []int64
	i := 0
	for b := 0; b < s.n; b++ {
		to := int64(time.Duration(b+1) * s.width)
		if b == s.n-1 {
			to = math.MaxInt64 // the last bucket takes any stragglers
		}
		lats = lats[:0]
		for ; i < len(r.reqs) && r.reqs[i].t < to; i++ {
			rq := &r.reqs[i]
			s.reqs[b]++
			s.byOut[b][rq.outcome]++
			lats = append(lats, rq.lat)
		}
		if len(lats) > 0 {
			slices.Sort(lats)
			s.p50[b] = float64(nearestRank(lats, 500)) / 1e6
			s.p95[b] = float64(nearestRank(lats, 950)) / 1e6
			s.p99[b] = float64(nearestRank(lats, 990)) / 1e6
		}
	}
	for _, c := range r.calls {
		b := min(max(int(c.t/int64(s.width)), 0), s.n-1)
		if c.failed {
			s.badCal[b]++
		} else {
			s.okCall[b]++
		}
	}
	return s
}

// bucketX returns the start and end of bucket b in axis units.
func (s *series) bucketX(b int) (float64, float64) {
	from := time.Duration(b) * s.width
	to := min(from+s.width, s.end)
	if b == s.n-1 {
		to = s.end
	}
	return s.unit.x(from), s.unit.x(to)
}

// bucketSeconds is the length of bucket b in seconds, for per-second rates.
func (s *series) bucketSeconds(b int) float64 {
	from, to := s.bucketX(b)
	return (to - from) * s.unit.sec
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}
