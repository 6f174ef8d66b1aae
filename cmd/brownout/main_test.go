package main

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// beMainEnv makes the test binary act as the brownout command, so tests
// can run brownout in a subprocess (to kill it) without building it.
const beMainEnv = "BROWNOUT_TEST_BE_MAIN"

// TestMain checks that no command leaves a goroutine (a server, a load
// worker, a progress ticker) running after it returns.
func TestMain(m *testing.M) {
	if os.Getenv(beMainEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
