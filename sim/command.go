package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// TargetLogFile is the file of the run folder that holds a launched
// target's stdout and stderr.
const TargetLogFile = "target.log"

// Defaults of a launched target.
const (
	DefaultReadyTimeout = 30 * time.Second
	DefaultStopGrace    = 5 * time.Second
	DefaultUpstreamEnv  = "HF_API_BASE"
	DefaultTargetURL    = "http://127.0.0.1:{port}"
)

// Command is a target that brownout launches for each run: it picks a free
// loopback port, starts the command with the scenario's breaker settings
// (already divided by the time scale) in its environment, waits until it
// is ready, and stops it at the end. Sweep cells each launch their own.
type Command struct {
	// Args is the program and its arguments, run without a shell.
	Args []string
	// Shell is a command line run with /bin/sh -c; used when Args is empty.
	Shell string
	// Env adds or overrides environment variables (see TargetEnv for the
	// ones set by default).
	Env map[string]string
	// UpstreamEnv names the variable that receives the fake upstream's
	// URL; default HF_API_BASE, which the built-in assistant reads.
	UpstreamEnv string
	// Endpoint says where the service answers; its URL defaults to
	// DefaultTargetURL.
	Endpoint Endpoint
	// ReadyPath is polled with GET until it answers 2xx; default the
	// health path, or, without one, until the port accepts connections.
	ReadyPath string
	// ReadyTimeout bounds the wait for readiness (real time).
	ReadyTimeout time.Duration
	// StopGrace is how long the service has to exit after SIGTERM before
	// its process group is killed (real time).
	StopGrace time.Duration
}

// CommandFrom is the target a scenario's target block describes.
func CommandFrom(t *scenarios.Target) *Command {
	return &Command{
		Args: t.Command, Env: t.Env, UpstreamEnv: t.UpstreamEnv, ReadyPath: t.Ready,
		Endpoint: Endpoint{URL: t.URL, QueryPath: t.Query, HealthPath: t.Health},
	}
}

// Start implements Target.
func (c *Command) Start(ctx context.Context, w Wiring) (Running, error) {
	if len(c.Args) == 0 && strings.TrimSpace(c.Shell) == "" {
		return nil, errors.New("target: no command to launch")
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var p *process
		p, err = c.launch(ctx, w)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errPortRace) {
			return nil, err
		}
	}
	return nil, err
}

// errPortRace marks a launch that failed because another process took the
// free port brownout had picked before the target could bind it.
var errPortRace = errors.New("the port brownout picked was taken by another process")

// launch starts one instance and waits until it is ready.
func (c *Command) launch(ctx context.Context, w Wiring) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vars := placeholders(w, port)
	base, err := expand(orDefault(c.Endpoint.URL, DefaultTargetURL), vars)
	if err != nil {
		return nil, fmt.Errorf("target url: %w", err)
	}
	ep := c.Endpoint
	ep.URL = strings.TrimRight(base, "/")
	ep.Poll = orDuration(ep.Poll, DefaultPoll(w.TimeScale))
	if err := CheckLoopback(ep.URL); err != nil {
		return nil, err
	}
	if err := portFree(ep.URL); err != nil {
		return nil, err
	}
	vars["url"] = ep.URL
	cmd, line, err := c.command(w, vars)
	if err != nil {
		return nil, err
	}
	p, err := startProcess(cmd, w.Dir, c.StopGrace)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", line, err)
	}
	p.endpoint, p.line = ep, line
	if err := p.waitReady(ctx, c.ReadyPath, orDuration(c.ReadyTimeout, DefaultReadyTimeout)); err != nil {
		p.kill()
		if c.picksPort() && p.exitedEarly() && portFree(ep.URL) != nil {
			return nil, errPortRace
		}
		return nil, err
	}
	p.info = &recording.TargetInfo{Kind: "launched", Command: line, URL: ep.URL}
	if w.Dir != "" {
		p.info.Log = TargetLogFile
	}
	return p, nil
}

// command builds the exec.Cmd with its environment; it returns the command
// line as the user would read it.
func (c *Command) command(w Wiring, vars map[string]string) (*exec.Cmd, string, error) {
	args := c.Args
	if len(args) == 0 {
		args = []string{"/bin/sh", "-c", c.Shell}
	}
	expanded := make([]string, len(args))
	for i, a := range args {
		v, err := expand(a, vars)
		if err != nil {
			return nil, "", fmt.Errorf("target command: %w", err)
		}
		expanded[i] = v
	}
	env, err := TargetEnv(w, vars, orDefault(c.UpstreamEnv, DefaultUpstreamEnv), c.Env)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(expanded[0], expanded[1:]...)
	cmd.Env = append(os.Environ(), env...)
	line := strings.Join(expanded, " ")
	if len(c.Args) == 0 {
		line = expanded[2]
	}
	return cmd, line, nil
}

// picksPort reports whether brownout chooses the service's port ({port}
// in the URL), so that a lost race for it can be retried with another.
func (c *Command) picksPort() bool {
	return strings.Contains(orDefault(c.Endpoint.URL, DefaultTargetURL), "{port}")
}

// freePort asks the kernel for a free loopback port.
func freePort() (string, error) {
	l, err := listenLoopback()
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// portFree refuses a URL whose port already accepts connections: load
// would go to whatever listens there, not to the launched service.
func portFree(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	conn, err := net.DialTimeout("tcp", host, time.Second)
	if err != nil {
		return nil
	}
	conn.Close()
	return fmt.Errorf("target: %s is already taken by another process; brownout would load that process, not the one it launches (stop it, or let brownout pick a port with {port})", host)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// killGroup sends sig to every process of the group led by pid.
func killGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// logPath is where a launched target's output goes: the run folder, or a
// temporary file when the run records nothing.
func logPath(dir string) (string, bool, error) {
	if dir != "" {
		return filepath.Join(dir, TargetLogFile), false, nil
	}
	f, err := os.CreateTemp("", "brownout-target-*.log")
	if err != nil {
		return "", false, err
	}
	f.Close()
	return f.Name(), true, nil
}
