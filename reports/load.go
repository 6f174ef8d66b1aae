package reports

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

// Breaker states as small integers, in the order the breaker plot stacks
// them (closed at the bottom).
const (
	stClosed uint8 = iota
	stHalfOpen
	stOpen
	stUnknown // disabled breaker or a state this version does not know
)

var stateNames = []contract.State{contract.StateClosed, contract.StateHalfOpen, contract.StateOpen}

// joinStates lists states for a message: "closed, half-open, open".
func joinStates(states []contract.State) string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = st.String()
	}
	return strings.Join(s, ", ")
}

func stateIndex(s contract.State) uint8 {
	switch s {
	case contract.StateClosed:
		return stClosed
	case contract.StateHalfOpen:
		return stHalfOpen
	case contract.StateOpen:
		return stOpen
	}
	return stUnknown
}

// Outcome classes as indexes into contract.Outcomes.
const (
	ocUpstream uint8 = iota
	ocCache
	ocExcerpts
	ocUnavailable
	ocError
	ocBadResponse
	numOutcomes
)

func outcomeIndex(o contract.Outcome) (uint8, bool) {
	i := slices.Index(contract.Outcomes, o)
	if i < 0 || i >= int(numOutcomes) {
		return 0, false
	}
	return uint8(i), true
}

// request is one recorded request, packed to 24 bytes so a run of a
// million requests stays small in memory.
type request struct {
	t       int64 // start, ns of scenario time
	lat     int64 // ns of scenario time
	lag     int64 // actual − intended send time, ns of scenario time (0 when not recorded)
	status  int16
	phase   uint16 // index into Header.Phases, or noPhase
	outcome uint8
	breaker uint8
	replica uint16 // as recorded: from 1, 0 when unstamped (recording.OfReplica)
}

// call is one recorded upstream call.
type call struct {
	t       int64
	phase   uint16
	breaker uint8
	failed  bool
	replica uint16 // as for request
}

// replicaOf keeps a recorded replica number in a record's uint16, reading
// an impossible one (negative, or past what fits) as unstamped.
func replicaOf(k int) uint16 {
	if k < 0 || k > math.MaxUint16 {
		return 0
	}
	return uint16(k)
}

// Recording is a run folder loaded for metrics: the header, the effective
// scenario it played, and every record in compact form. Requests are kept
// sorted by start time; the latencies a filter selects are sorted once, on
// first use, and cached for exact percentiles.
type Recording struct {
	// Header is run.json as recorded.
	Header *recording.Header
	// Scenario is the effective scenario of the run, parsed from
	// Header.ScenarioYAML; it is in scenario time.
	Scenario *scenarios.Scenario
	// Dir is the folder the recording was loaded from.
	Dir string

	reqs        []request
	calls       []call
	transitions []recording.Transition
	open        []span // merged spans where at least one breaker was open

	integrity integrity

	mu       sync.Mutex
	cache    map[aggKey]*aggregate
	replicas map[int]*breakerView // one replica's transitions, by replica:K
}

// breakerView is what breaker metrics read: transitions in time order and
// the merged spans in which one of their breakers was open; the whole
// run's, or one replica's.
type breakerView struct {
	transitions []recording.Transition
	open        []span
}

// breakers returns the transitions a breaker metric reads for replica k
// (from 1; 0 for every breaker), cached per replica.
func (r *Recording) breakers(k int) *breakerView {
	if k == 0 {
		return &breakerView{transitions: r.transitions, open: r.open}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.replicas[k]; ok {
		return v
	}
	v := &breakerView{}
	for _, tr := range r.transitions {
		if recording.OfReplica(tr.Replica, k) {
			v.transitions = append(v.transitions, tr)
		}
	}
	v.open = openSpans(v.transitions, r.Duration())
	if r.replicas == nil {
		r.replicas = map[int]*breakerView{}
	}
	r.replicas[k] = v
	return v
}

// span is a half-open interval [from, to) of scenario time in ns.
type span struct{ from, to int64 }

func (s span) len() int64 { return s.to - s.from }

// Load reads the run folder dir: run.json, requests.jsonl, transitions.jsonl
// and upstream.jsonl, and parses the effective scenario stored in the
// header.
func Load(dir string) (*Recording, error) {
	h, err := recording.ReadHeader(dir)
	if err != nil {
		return nil, err
	}
	if h.ScenarioYAML == "" {
		return nil, fmt.Errorf("reports: %s: the header holds no scenario", dir)
	}
	sc, err := scenarios.Parse(recording.HeaderFile+" (scenario_yaml)", []byte(h.ScenarioYAML))
	if err != nil {
		return nil, fmt.Errorf("reports: %s: scenario of the run: %w", dir, err)
	}
	return load(dir, h, sc)
}

// noPhase marks a record whose phase name is not one of the header's.
const noPhase = math.MaxUint16

// phaseLookup maps phase names to header indexes, remembering the last hit
// since records come in long runs of the same phase.
type phaseLookup struct {
	idx      map[string]uint16
	lastName string
	last     uint16
}

func newPhaseLookup(h *recording.Header) *phaseLookup {
	l := &phaseLookup{idx: map[string]uint16{}, last: noPhase}
	for i, p := range h.Phases {
		if _, dup := l.idx[p.Name]; !dup && i < noPhase {
			l.idx[p.Name] = uint16(i)
		}
	}
	return l
}

func (l *phaseLookup) index(name string) uint16 {
	if name == l.lastName && l.last != noPhase {
		return l.last
	}
	i, ok := l.idx[name]
	if !ok {
		return noPhase
	}
	l.lastName, l.last = name, i
	return i
}

// load reads the JSON Lines files of dir for a header and scenario already
// in hand; tests use it to skip the scenario parser. The request log is
// read while the upstream log and transitions are read concurrently.
func load(dir string, h *recording.Header, sc *scenarios.Scenario) (*Recording, error) {
	r := &Recording{Header: h, Scenario: sc, Dir: dir, cache: map[aggKey]*aggregate{}}
	var wg sync.WaitGroup
	var callErr, trErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		phases := newPhaseLookup(h)
		if h.Counts.UpstreamCalls > 0 {
			r.calls = make([]call, 0, h.Counts.UpstreamCalls)
		}
		callErr = recording.EachUpstreamCall(dir, func(c *recording.UpstreamCall) error {
			r.calls = append(r.calls, call{t: int64(c.T), phase: phases.index(c.Phase), breaker: stateIndex(c.Breaker), failed: c.Failed(), replica: replicaOf(c.Replica)})
			return nil
		})
		if !slices.IsSortedFunc(r.calls, func(a, b call) int { return cmp.Compare(a.t, b.t) }) {
			slices.SortStableFunc(r.calls, func(a, b call) int { return cmp.Compare(a.t, b.t) })
		}
		r.transitions, trErr = recording.ReadTransitions(dir)
		slices.SortStableFunc(r.transitions, func(a, b recording.Transition) int { return cmp.Compare(a.T, b.T) })
	}()

	phases := newPhaseLookup(h)
	if h.Counts.Requests > 0 {
		r.reqs = make([]request, 0, h.Counts.Requests)
	}
	reqErr := recording.EachRequest(dir, func(q *recording.Request) error {
		oc, ok := outcomeIndex(q.Outcome)
		if !ok {
			return fmt.Errorf("request %d: unknown outcome %q", q.Seq, q.Outcome)
		}
		status := q.Status
		if status < 0 || status > 999 {
			status = 0
		}
		var lag int64
		if h.IntendedTimes {
			lag = max(int64(q.T-q.Intended), 0)
		}
		r.reqs = append(r.reqs, request{
			t: int64(q.T), lat: int64(q.Latency), lag: lag, status: int16(status),
			phase: phases.index(q.Phase), outcome: oc, breaker: stateIndex(q.Breaker), replica: replicaOf(q.Replica),
		})
		return nil
	})
	if reqErr == nil && !slices.IsSortedFunc(r.reqs, func(a, b request) int { return cmp.Compare(a.t, b.t) }) {
		slices.SortStableFunc(r.reqs, func(a, b request) int { return cmp.Compare(a.t, b.t) })
	}
	wg.Wait()
	if err := errors.Join(reqErr, callErr, trErr); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	r.integrity = r.checkIntegrity()
	r.open = openSpans(r.transitions, r.Duration())
	return r, nil
}

// Duration is the scenario time the recording covers: the header's
// duration, or the end of the last phase when the header has none (a run
// that crashed before writing its end).
func (r *Recording) Duration() time.Duration {
	d := r.Header.Duration
	if d <= 0 && !r.Header.Complete && r.Header.EndedAt.IsZero() && r.integrity.last > 0 {
		return time.Duration(r.integrity.last) // killed: as far as the logs go
	}
	if n := len(r.Header.Phases); d <= 0 && n > 0 {
		d = r.Header.Phases[n-1].End
	}
	if d <= 0 && len(r.reqs) > 0 {
		last := r.reqs[len(r.reqs)-1]
		d = time.Duration(last.t + last.lat)
	}
	return d
}

// Requests is the number of requests in the recording.
func (r *Recording) Requests() int { return len(r.reqs) }

// phaseIndex returns the index of a phase in the header, or -1.
func (r *Recording) phaseIndex(name string) int {
	for i, p := range r.Header.Phases {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// openSpans merges the spans in which any breaker was open. Every breaker
// starts closed; a breaker still open at the end stays open until end.
func openSpans(trs []recording.Transition, end time.Duration) []span {
	type ev struct {
		t     int64
		delta int
	}
	var evs []ev
	openSince := map[string]int64{}
	for _, tr := range trs {
		from, wasOpen := openSince[tr.Breaker]
		if tr.To == contract.StateOpen && !wasOpen {
			openSince[tr.Breaker] = int64(tr.T)
		} else if tr.To != contract.StateOpen && wasOpen {
			evs = append(evs, ev{from, +1}, ev{int64(tr.T), -1})
			delete(openSince, tr.Breaker)
		}
	}
	names := make([]string, 0, len(openSince))
	for n := range openSince {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		from := openSince[n]
		to := max(int64(end), from)
		evs = append(evs, ev{from, +1}, ev{to, -1})
	}
	slices.SortStableFunc(evs, func(a, b ev) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(b.delta, a.delta) // opens before closes at the same instant
	})
	var out []span
	depth := 0
	var start int64
	for _, e := range evs {
		if e.delta > 0 {
			if depth == 0 {
				start = e.t
			}
			depth++
			continue
		}
		depth--
		if depth == 0 && e.t > start {
			if n := len(out); n > 0 && out[n-1].to >= start {
				out[n-1].to = max(out[n-1].to, e.t)
			} else {
				out = append(out, span{start, e.t})
			}
		}
	}
	return out
}

// openWithin is the total time in [s.from, s.to) during which any breaker
// of the view was open.
func (v *breakerView) openWithin(s span) int64 {
	var total int64
	for _, o := range v.open {
		lo, hi := max(o.from, s.from), min(o.to, s.to)
		if hi > lo {
			total += hi - lo
		}
	}
	return total
}

// replicaCount is how many assistant replicas the run played against: the
// effective scenario's assistant.replicas (1 for an external target).
func (r *Recording) replicaCount() int {
	if r.Scenario == nil || r.Header.Target != nil {
		return 1
	}
	return max(1, r.Scenario.Assistant.Replicas)
}
