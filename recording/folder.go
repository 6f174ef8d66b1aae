package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// LockFile is the file in a run folder that a writing run holds an OS lock
// on (flock). The lock dies with the process, so a killed run never leaves
// a stale lock; the empty file itself may stay and is harmless.
const LockFile = "run.lock"

// DefaultFlushInterval is how often, in real time, a Writer pushes its
// buffered records to disk: a run killed without warning (SIGKILL, a
// crash, a power cut of the process) loses at most about this much.
const DefaultFlushInterval = 250 * time.Millisecond

// ErrLocked is returned by Create when another process is writing a run
// into the folder.
var ErrLocked = errors.New("another brownout run is writing into this folder")

// ErrExists is returned by Create when the folder holds an earlier run and
// Replace was not given.
var ErrExists = errors.New("the folder holds an earlier run")

// CreateOption tunes Create.
type CreateOption func(*createConfig)

type createConfig struct {
	replace    bool
	derived    []string
	flushEvery time.Duration
}

// Replace lets Create replace an earlier run in the folder: its records
// and the files named by Derived are deleted first. Other files in the
// folder are left alone.
func Replace() CreateOption { return func(c *createConfig) { c.replace = true } }

// Derived names files computed from a recording (reports, plots) that
// Create deletes when it starts a new recording in a folder, so no output
// of an earlier run is left beside the new records.
func Derived(names ...string) CreateOption {
	return func(c *createConfig) { c.derived = append(c.derived, names...) }
}

// FlushEvery sets how often buffered records are pushed to disk (real
// time); zero or less turns periodic flushing off.
func FlushEvery(d time.Duration) CreateOption { return func(c *createConfig) { c.flushEvery = d } }

// lockDir takes the run folder's lock without waiting, and notes the
// holder's process id in the lock file for the message a second run gets.
func lockDir(dir string) (*flock.Flock, error) {
	path := filepath.Join(dir, LockFile)
	l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("recording: lock %s: %w", path, err)
	}
	if !ok {
		holder := ""
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				holder = fmt.Sprintf(" (process %d)", pid)
			}
		}
		return nil, fmt.Errorf("recording: %s: %w%s; wait for it to end or choose another folder", dir, ErrLocked, holder)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		l.Close()
		return nil, fmt.Errorf("recording: lock %s: %w", path, err)
	}
	return l, nil
}

// Check reports, before any work, whether Create would refuse dir with
// opts: another process is writing into it (ErrLocked), or it holds an
// earlier run and Replace is not among opts (ErrExists). Create checks
// again; Check lets a command refuse before it spends time calibrating.
func Check(dir string, opts ...CreateOption) error {
	var cfg createConfig
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err == nil {
		l, err := lockDir(dir)
		if err != nil {
			return err
		}
		l.Close()
	}
	return refuseEarlier(dir, &cfg)
}

// refuseEarlier returns an error wrapping ErrExists when dir holds an
// earlier run and cfg does not allow replacing it.
func refuseEarlier(dir string, cfg *createConfig) error {
	b, err := os.ReadFile(filepath.Join(dir, HeaderFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("recording: %w", err)
	case !cfg.replace:
		what := ""
		var h struct {
			Scenario  string    `json:"scenario"`
			StartedAt time.Time `json:"started_at"`
		}
		if json.Unmarshal(b, &h) == nil && h.Scenario != "" {
			what = fmt.Sprintf(" (%s, started %s)", h.Scenario, h.StartedAt.Format(time.RFC3339))
		}
		return fmt.Errorf("recording: %s: %w%s", dir, ErrExists, what)
	}
	return nil
}

// clearEarlier refuses or clears a folder that holds an earlier run, and
// removes derived outputs whatever the folder held.
func clearEarlier(dir string, cfg *createConfig) error {
	if err := refuseEarlier(dir, cfg); err != nil {
		return err
	}
	names := append([]string{HeaderFile, RequestsFile, TransitionsFile, UpstreamFile, VegetaFile, HeaderFile + ".tmp"}, cfg.derived...)
	for _, name := range names {
		if name == "" || filepath.Base(name) != name {
			return fmt.Errorf("recording: derived file %q must be a plain file name", name)
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("recording: remove earlier output: %w", err)
		}
	}
	return nil
}

// Attach creates another file in the run folder, such as vegeta's
// results.bin, whose writes are buffered, flushed with the records and
// closed by Close or Abort. The returned writer is safe for concurrent use.
func (w *Writer) Attach(name string) (*AttachedFile, error) {
	if name == "" || filepath.Base(name) != name {
		return nil, fmt.Errorf("recording: attached file %q must be a plain file name", name)
	}
	f, err := createJSONL(filepath.Join(w.dir, name))
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		f.close()
		return nil, errClosed
	}
	w.attached = append(w.attached, f)
	return &AttachedFile{w: w, f: f}, nil
}

// AttachedFile is a file written alongside the records; see Writer.Attach.
type AttachedFile struct {
	w *Writer
	f *jsonlFile
}

// Write appends p to the file.
func (a *AttachedFile) Write(p []byte) (int, error) {
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if a.w.closed {
		return 0, errClosed
	}
	return a.f.w.Write(p)
}
