package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"brownout/recording"
)

// process is a launched target: the command's process group, its log and
// its endpoint.
type process struct {
	cmd      *exec.Cmd
	line     string
	endpoint Endpoint
	info     *recording.TargetInfo
	health   *healthReading // the last reading taken while waiting for readiness
	grace    time.Duration
	log      *logTail
	tempLog  string // removed at stop when the run records nothing
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// startProcess starts cmd in its own process group, its output going to
// the target log.
func startProcess(cmd *exec.Cmd, dir string, grace time.Duration) (*process, error) {
	path, temp, err := logPath(dir)
	if err != nil {
		return nil, fmt.Errorf("target log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("target log: %w", err)
	}
	p := &process{cmd: cmd, grace: orDuration(grace, DefaultStopGrace), log: &logTail{f: f},
		exited: make(chan struct{})}
	if temp {
		p.tempLog = path
	}
	// The file itself, not a pipe: a child the service leaves behind
	// cannot keep Wait from returning.
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		p.removeTempLog()
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls the ready path (or the port) until the service answers,
// the process exits, ctx ends or the timeout passes.
func (p *process) waitReady(ctx context.Context, readyPath string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.ready(ctx, client, readyPath) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("target %q exited before it was ready (%v)%s", p.line, p.waitErr, p.log.quote())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("target %q was not ready at %s within %v%s", p.line, p.endpoint.URL+p.readyPath(readyPath), timeout, p.log.quote())
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (p *process) readyPath(readyPath string) string {
	if readyPath != "" {
		return readyPath
	}
	return p.endpoint.healthPath()
}

// ready asks once whether the service is ready: a 2xx answer to GET of the
// ready path, or, with no path at all, a port that accepts connections.
// A health reading taken on the way is kept as the service's first.
func (p *process) ready(ctx context.Context, client *http.Client, readyPath string) bool {
	path := p.readyPath(readyPath)
	if path == "" {
		u, _ := url.Parse(p.endpoint.URL)
		conn, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
	code, body, err := get(ctx, client, p.endpoint.URL+path)
	if err != nil || code/100 != 2 {
		return false
	}
	if path == p.endpoint.healthPath() {
		p.health, _ = parseHealth(body)
	}
	return true
}

// Endpoints implements Running.
func (p *process) Endpoints() Endpoints {
	return p.endpoint.endpoints(p.info, p.health)
}

// Watch polls the health endpoint and fails the run if the process exits.
func (p *process) Watch(ctx context.Context, observe func(Transition)) error {
	return p.endpoint.watch(ctx, p.health, observe, func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("target %q exited during the run (%v)%s", p.line, p.waitErr, p.log.quote())
		default:
			return nil
		}
	}, p.exited)
}

// exitedEarly reports whether the process has exited on its own.
func (p *process) exitedEarly() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, waits the grace period, then
// kills the group. A service that had to be killed, or that exits
// non-zero, gets an error quoting its log.
func (p *process) Stop(context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *process) stop() error {
	defer p.removeTempLog()
	defer p.log.f.Close()
	pid := p.cmd.Process.Pid
	select {
	case <-p.exited: // died on its own: Watch has reported it
		killGroup(pid, syscall.SIGKILL)
		return nil
	default:
	}
	killGroup(pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		killGroup(pid, syscall.SIGKILL) // children left behind
		return p.exitError()
	case <-time.After(p.grace):
	}
	killGroup(pid, syscall.SIGKILL)
	<-p.exited
	return fmt.Errorf("target %q did not exit within %v of SIGTERM; its process group was killed%s", p.line, p.grace, p.log.quote())
}

// kill ends the process group at once (a launch that failed).
func (p *process) kill() {
	p.stopOnce.Do(func() {
		killGroup(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		p.log.f.Close()
		p.removeTempLog()
	})
}

// exitError is nil for an exit by SIGTERM or with status 0.
func (p *process) exitError() error {
	var ee *exec.ExitError
	if !errors.As(p.waitErr, &ee) {
		return p.waitErr
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil
	}
	return fmt.Errorf("target %q exited with %v when stopped%s", p.line, p.waitErr, p.log.quote())
}

func (p *process) removeTempLog() {
	if p.tempLog != "" {
		os.Remove(p.tempLog)
	}
}

// logTail is a launched target's log file, whose last lines end the
// errors about it.
type logTail struct{ f *os.File }

const logTailBytes = 2048

// quote returns the log's last lines, indented, to end an error message.
func (l *logTail) quote() string {
	buf := make([]byte, logTailBytes)
	size := int64(0)
	if st, err := l.f.Stat(); err == nil {
		size = st.Size()
	}
	off := max(0, size-logTailBytes)
	n, _ := l.f.ReadAt(buf[:size-off], off)
	s := strings.TrimSpace(string(buf[:n]))
	if s == "" {
		return "; its log is empty"
	}
	lines := strings.Split(s, "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first may be cut
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "; last lines of its log (" + l.f.Name() + "):\n    " + strings.Join(lines, "\n    ")
}
