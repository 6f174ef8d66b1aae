package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"brownout/sim"
)

// targetFlags choose what a run plays against: the built-in assistant (no
// flag), a service brownout launches (--target-cmd) or one already running
// (--target). See docs/targets.md.
type targetFlags struct {
	cmd            string
	launchURL      string
	url            string
	upstreamListen string
	upstreamEnv    string
	env            []string
	poll           time.Duration
	readyPath      string
	queryPath      string
	healthPath     string
	readyTimeout   time.Duration
	stopGrace      time.Duration
}

func (f *targetFlags) register(fs *pflag.FlagSet, running bool) {
	fs.StringVar(&f.cmd, "target-cmd", "", "launch this command line (sh -c) as the service under test, once per run, with the scenario's breaker settings in its environment (see docs/targets.md)")
	if running {
		fs.StringVar(&f.url, "target", "", "play against a service already running at this loopback URL (time scale 1 only; needs --upstream-listen)")
		fs.StringVar(&f.upstreamListen, "upstream-listen", "", "loopback host:port where the fake upstream listens, for a --target service configured to call it there")
	}
	fs.StringVar(&f.launchURL, "target-url", sim.DefaultTargetURL, "where a launched service answers; {port} is the free port brownout picks")
	fs.StringVar(&f.upstreamEnv, "upstream-env", sim.DefaultUpstreamEnv, "environment variable that gives a launched service the fake upstream's URL")
	fs.StringArrayVar(&f.env, "target-env", nil, "NAME=VALUE added to a launched service's environment; placeholders such as {port} or {breaker.reset_timeout.seconds} are expanded (repeatable)")
	fs.StringVar(&f.queryPath, "query-path", "", "the service's query path (default /assistant/query)")
	fs.StringVar(&f.healthPath, "health-path", "", "the service's health path (default /assistant/health/circuit-breaker); none infers the breaker from the answers")
	fs.StringVar(&f.readyPath, "ready-path", "", "path polled until a launched service answers 2xx (default: the health path)")
	fs.DurationVar(&f.poll, "poll", 0, "health polling interval, real time (default 25ms, shorter at high time scales: 250ms of scenario time at most)")
	fs.DurationVar(&f.readyTimeout, "ready-timeout", sim.DefaultReadyTimeout, "how long a launched service may take to become ready")
	fs.DurationVar(&f.stopGrace, "stop-grace", sim.DefaultStopGrace, "how long a launched service has to exit after SIGTERM before it is killed")
}

// options turns the flags into sim options; none when no target flag was
// given. scale is the run's time scale.
func (f *targetFlags) options(scale float64) ([]sim.Option, error) {
	if f.cmd != "" && f.url != "" {
		return nil, errors.New("--target-cmd and --target exclude each other: launch a service or name a running one")
	}
	ep := sim.Endpoint{QueryPath: f.queryPath, HealthPath: f.healthPath, Poll: f.poll}
	switch {
	case f.url != "":
		if scale != 1 {
			return nil, fmt.Errorf("--target %s runs with its own timers, which brownout cannot divide by the time scale %g: use --time-scale 1, or let brownout launch the service with --target-cmd so it can pass scaled settings", f.url, scale)
		}
		if f.upstreamListen == "" {
			return nil, fmt.Errorf("--target needs --upstream-listen HOST:PORT: the running service must call the fake upstream at an address it was configured with (e.g. --upstream-listen 127.0.0.1:9000 and %s=http://127.0.0.1:9000 in its environment)", f.upstreamEnv)
		}
		if err := sim.CheckLoopback(f.url); err != nil {
			return nil, err
		}
		ep.URL = f.url
		return []sim.Option{sim.WithTarget(&sim.Service{Endpoint: ep}), sim.WithUpstreamListen(f.upstreamListen)}, nil
	case f.cmd != "":
		env := map[string]string{}
		for _, kv := range f.env {
			name, val, ok := strings.Cut(kv, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("--target-env %q: want NAME=VALUE", kv)
			}
			env[name] = val
		}
		ep.URL = f.launchURL
		c := &sim.Command{Shell: f.cmd, Env: env, UpstreamEnv: f.upstreamEnv, Endpoint: ep,
			ReadyPath: f.readyPath, ReadyTimeout: f.readyTimeout, StopGrace: f.stopGrace}
		opts := []sim.Option{sim.WithTarget(c)}
		if f.upstreamListen != "" {
			opts = append(opts, sim.WithUpstreamListen(f.upstreamListen))
		}
		return opts, nil
	case f.upstreamListen != "":
		return nil, errors.New("--upstream-listen is for a --target or --target-cmd service; the built-in assistant is wired to the fake by brownout")
	}
	return nil, nil
}

// calibration returns the options that make --time-scale auto calibrate
// against the launched service itself rather than the built-in assistant:
// a service's own work is not compressed, so its cost is part of what the
// machine must keep up with. Nil without --target-cmd.
func (f *targetFlags) calibration() ([]sim.Option, error) {
	if f.cmd == "" {
		return nil, nil
	}
	return f.options(1)
}
