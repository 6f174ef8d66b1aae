package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// checkTimeScaleFlag refuses a --time-scale that is not a positive finite
// number. A value the user typed is never replaced silently: 0 used to
// mean "the scenario's own scale", which hid a typo.
func checkTimeScaleFlag(k float64) error {
	if k == 0 {
		return fmt.Errorf("--time-scale 0: want a number > 0, or auto to let brownout measure this machine and choose")
	}
	if !(k > 0) || math.IsInf(k, 0) {
		return fmt.Errorf("--time-scale %v: want a number > 0 (leave the flag out to use the scenario's time_scale)", k)
	}
	return nil
}

// timeScaleFlag is --time-scale: a number K > 0, or auto (Auto) to measure
// this machine and choose the fastest honest scale (sim.AutoTimeScale).
type timeScaleFlag struct {
	K    float64
	Auto bool
}

func (f *timeScaleFlag) String() string {
	switch {
	case f.Auto:
		return "auto"
	case f.K == 0:
		return ""
	}
	return strconv.FormatFloat(f.K, 'g', -1, 64)
}

// Set reads "auto" or a number > 0.
func (f *timeScaleFlag) Set(s string) error {
	if strings.TrimSpace(s) == "auto" {
		f.K, f.Auto = 0, true
		return nil
	}
	k, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("want a number > 0 or auto")
	}
	if err := checkTimeScaleFlag(k); err != nil {
		return err
	}
	f.K, f.Auto = k, false
	return nil
}

// Type names the flag's values in the usage text.
func (f *timeScaleFlag) Type() string { return "K|auto" }

// timeScaleOf returns the fixed --time-scale given to fs, 0 for auto or
// none.
func timeScaleOf(fs *pflag.FlagSet) float64 {
	if fl := fs.Lookup("time-scale"); fl != nil {
		if f, ok := fl.Value.(*timeScaleFlag); ok {
			return f.K
		}
	}
	return 0
}

// checkOutDir makes sure the output folder exists (creating it) and is
// writable before anything starts, so that a bad --out is reported as the
// setup problem it is (exit 2) rather than as a failed run.
func checkOutDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("--out %s: is a file, not a folder", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out %s: cannot create the folder: %w", dir, cause(err))
	}
	f, err := os.CreateTemp(dir, ".brownout-write-check-*")
	if err != nil {
		return fmt.Errorf("--out %s: the folder is not writable: %w", dir, cause(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// cause strips the path an *fs.PathError repeats, keeping its reason.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// nonLoopbackWarning says why a server bound to addr deserves a warning:
// brownout's servers are test doubles with faults on demand, meant for
// this machine; "" when addr is a loopback address.
func nonLoopbackWarning(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return ""
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("listening on %s, every network interface", addr)
	}
	return fmt.Sprintf("listening on %s, a non-loopback address", addr)
}
