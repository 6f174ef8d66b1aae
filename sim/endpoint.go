package sim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"brownout/assistant"
	"brownout/contract"
	"brownout/recording"
)

// NoHealth as an Endpoint's HealthPath says the service has no health
// endpoint: breaker transitions are then inferred from its answers.
const NoHealth = "none"

// Endpoint is where an external service answers and how its breaker is
// seen from outside.
type Endpoint struct {
	// URL is the service's base URL; it must be on loopback.
	URL string
	// QueryPath defaults to the seed's /assistant/query.
	QueryPath string
	// HealthPath defaults to the seed's /assistant/health/circuit-breaker;
	// NoHealth infers transitions from the answers instead.
	HealthPath string
	// Poll is the health polling interval in real time; zero picks
	// DefaultPoll for the run's time scale.
	Poll time.Duration
}

// DefaultPoll is the health polling interval for time scale k: 25 ms of
// real time, shortened at high scales so that a polled transition is known
// to within 250 ms of scenario time, but never under 2 ms.
func DefaultPoll(k float64) time.Duration {
	d := min(25*time.Millisecond, time.Duration(float64(250*time.Millisecond)/max(k, 1)))
	return max(d, 2*time.Millisecond)
}

func (e Endpoint) queryPath() string { return orDefault(e.QueryPath, contract.PathQuery) }

// healthPath is the health endpoint's path, or "" when there is none.
func (e Endpoint) healthPath() string {
	if e.HealthPath == NoHealth {
		return ""
	}
	return orDefault(e.HealthPath, contract.PathHealth)
}

// endpoints describes the service to the runner.
func (e Endpoint) endpoints(info *recording.TargetInfo, h *healthReading) Endpoints {
	ep := Endpoints{QueryURLs: []string{e.URL + e.queryPath()}, Info: info}
	if h != nil {
		ep.Breakers = h.names
	}
	if e.healthPath() == "" {
		ep.Inferred = true
	} else {
		ep.Resolution = e.Poll
	}
	return ep
}

// watch polls the health endpoint every e.Poll until ctx ends or failed
// reports an error (checked at every poll and when done is closed),
// reporting every change of a breaker's state with the interval in which
// it happened. Without a health endpoint it only watches for failure.
func (e Endpoint) watch(ctx context.Context, first *healthReading, observe func(Transition), failed func() error, done <-chan struct{}) error {
	client := &http.Client{Timeout: max(time.Second, 10*e.Poll), Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(e.Poll)
	defer tick.Stop()
	last, lastSent := first, time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			return failed()
		case <-tick.C:
		}
		if err := failed(); err != nil {
			return err
		}
		if e.healthPath() == "" {
			continue
		}
		sent := time.Now()
		code, body, err := get(ctx, client, e.URL+e.healthPath())
		if err != nil || code != http.StatusOK {
			continue // a missed reading widens the next one's interval
		}
		h, err := parseHealth(body)
		if err != nil {
			continue
		}
		at := time.Now()
		for _, tr := range h.changesSince(last) {
			tr.At, tr.Resolution = at, at.Sub(lastSent)
			observe(tr)
		}
		last, lastSent = h, sent
	}
}

// get fetches url and returns its status and up to 1 MiB of its body.
func get(ctx context.Context, client *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// healthReading is one answer of the health endpoint: every breaker it
// lists (circuit_breaker and the circuit_breakers list), in order.
type healthReading struct {
	names  []string
	states map[string]contract.State
	fails  map[string]int64 // fail_count, -1 when not reported
	status map[string]gjson.Result
}

// parseHealth reads the seed's health answer. States are normalised to
// brownout's spelling (PyBreaker's "half-open"/"half_open" → half-open).
func parseHealth(body []byte) (*healthReading, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("health answer is not valid JSON")
	}
	h := &healthReading{states: map[string]contract.State{}, fails: map[string]int64{}, status: map[string]gjson.Result{}}
	add := func(b gjson.Result) {
		name, state := b.Get("name").String(), normState(b.Get("state").String())
		if !b.IsObject() || state == "" {
			return
		}
		if name == "" {
			name = assistant.DefaultConfig().Breaker.Name
		}
		if _, dup := h.states[name]; !dup {
			h.names = append(h.names, name)
		}
		h.states[name], h.status[name], h.fails[name] = state, b, -1
		if fc := b.Get("fail_count"); fc.Type == gjson.Number {
			h.fails[name] = fc.Int()
		}
	}
	doc := gjson.ParseBytes(body)
	for _, b := range doc.Get("circuit_breakers").Array() {
		add(b)
	}
	add(doc.Get("circuit_breaker"))
	if len(h.names) == 0 {
		return nil, fmt.Errorf("health answer lists no breaker with a state (want circuit_breaker or circuit_breakers)")
	}
	return h, nil
}

func normState(s string) contract.State {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "half_open", "halfopen", "half open":
		return contract.StateHalfOpen
	}
	return contract.State(s)
}

// maxMissedProbes bounds the failed probes changesSince reconstructs
// between two readings.
const maxMissedProbes = 8

// changesSince lists the transitions of each breaker since prev (a breaker
// absent from prev was closed). A breaker's half-open state may last only
// as long as its probe, shorter than the polling interval, so transitions
// the readings cannot show directly are reconstructed from the contract:
// an open breaker whose fail_count grew by n failed n half-open probes,
// and an open breaker that is now closed went through half-open.
func (h *healthReading) changesSince(prev *healthReading) []Transition {
	var out []Transition
	for _, name := range h.names {
		from, prevFails := contract.StateClosed, int64(-1)
		if prev != nil {
			if s, ok := prev.states[name]; ok {
				from, prevFails = s, prev.fails[name]
			}
		}
		to, fails := h.states[name], h.fails[name]
		step := func(a, b contract.State) { out = append(out, Transition{Breaker: name, From: a, To: b}) }
		if from != contract.StateOpen {
			if to != from {
				step(from, to)
			}
			continue
		}
		if prevFails >= 0 && fails > prevFails {
			for range min(fails-prevFails, maxMissedProbes) {
				step(contract.StateOpen, contract.StateHalfOpen)
				step(contract.StateHalfOpen, contract.StateOpen)
			}
		}
		switch to {
		case contract.StateHalfOpen:
			step(contract.StateOpen, contract.StateHalfOpen)
		case contract.StateClosed:
			step(contract.StateOpen, contract.StateHalfOpen)
			step(contract.StateHalfOpen, contract.StateClosed)
		case contract.StateOpen:
		default:
			step(from, to)
		}
	}
	return out
}
