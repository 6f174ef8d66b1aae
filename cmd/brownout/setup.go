package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
)

// checkTimeScaleFlag refuses a --time-scale that is not a positive finite
// number. A value the user typed is never replaced silently: 0 used to
// mean "the scenario's own scale", which hid a typo.
func checkTimeScaleFlag(k float64) error {
	if !(k > 0) || math.IsInf(k, 0) {
		return fmt.Errorf("--time-scale %v: want a number > 0 (leave the flag out to use the scenario's time_scale)", k)
	}
	return nil
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
