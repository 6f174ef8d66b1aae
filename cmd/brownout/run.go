package main

import (
	"context"
	"fmt"
	"io"
)

// cmdRun is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout run: not available in this build yet")
	return exitUsage
}
