package sim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// Service is a target that is already running (started by hand or by
// docker compose) and calls the fake upstream at the address given with
// WithUpstreamListen. brownout cannot change its timers, so it plays only
// at time scale 1, and the recording shows the breaker settings the
// service's health endpoint reports.
type Service struct {
	Endpoint Endpoint
	// ReadyTimeout bounds the wait for the service to answer its health
	// endpoint (or accept connections) at the start; default 5 s.
	ReadyTimeout time.Duration
}

// Start implements Target: it checks the service is there and reads its
// settings.
func (s *Service) Start(ctx context.Context, w Wiring) (Running, error) {
	if w.TimeScale != 1 {
		return nil, fmt.Errorf("target %s is already running: brownout cannot divide its timers by the time scale %g, so only time scale 1 is possible (or let brownout launch it with a target command)", s.Endpoint.URL, w.TimeScale)
	}
	ep := s.Endpoint
	ep.URL = strings.TrimRight(ep.URL, "/")
	ep.Poll = orDuration(ep.Poll, DefaultPoll(w.TimeScale))
	if err := CheckLoopback(ep.URL); err != nil {
		return nil, err
	}
	p := &process{endpoint: ep, line: ep.URL, exited: make(chan struct{})}
	if err := p.waitService(ctx, orDuration(s.ReadyTimeout, 5*time.Second)); err != nil {
		return nil, err
	}
	r := &service{p: p}
	r.endpoints = ep.endpoints(&recording.TargetInfo{Kind: "running", URL: ep.URL}, p.health)
	if p.health != nil {
		r.endpoints.Breaker = p.health.settings(w.Scenario.Breaker, w.TimeScale)
	}
	return r, nil
}

// waitService waits until a running service answers.
func (p *process) waitService(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !p.ready(ctx, client, "") {
		select {
		case <-ctx.Done():
			what := "accept connections"
			if h := p.endpoint.healthPath(); h != "" {
				what = "answer 2xx at " + h
			}
			return fmt.Errorf("target %s did not %s within %v: is it running?", p.endpoint.URL, what, timeout)
		case <-tick.C:
		}
	}
	return nil
}

// service is a started Service.
type service struct {
	p         *process
	endpoints Endpoints
}

func (s *service) Endpoints() Endpoints { return s.endpoints }

func (s *service) Watch(ctx context.Context, observe func(Transition)) error {
	return s.p.endpoint.watch(ctx, s.p.health, observe, func() error { return nil }, nil)
}

func (s *service) Stop(context.Context) error { return nil }

// settings returns the scenario's breaker settings overridden by what the
// health endpoint reports of the first breaker (the seed's enabled,
// fail_max and reset_timeout; brownout's policy, interval), in scenario
// time.
func (h *healthReading) settings(b scenarios.Breaker, k float64) *scenarios.Breaker {
	st := h.status[h.names[0]]
	if v := st.Get("enabled"); v.Exists() {
		b.Enabled = v.Bool()
	}
	if v := st.Get("fail_max"); v.Exists() && v.Int() > 0 {
		b.FailThreshold = int(v.Int())
	}
	if v := st.Get("reset_timeout"); v.Exists() && v.Float() > 0 {
		b.ResetTimeout = scenarios.Duration(time.Duration(v.Float() * k * float64(time.Second)))
	}
	if v := st.Get("policy"); v.Exists() && v.String() != "" {
		b.Policy = v.String()
	}
	if v := st.Get("interval"); v.Exists() {
		b.Interval = scenarios.Duration(time.Duration(v.Float() * k * float64(time.Second)))
	}
	if len(h.names) > 1 {
		b.Scope = "per-endpoint"
	}
	return &b
}
