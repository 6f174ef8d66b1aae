package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no command leaves a goroutine (a server, a load
// worker, a progress ticker) running after it returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
