package main

import (
	"context"
	"fmt"
	"io"
)

// cmdSweep is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout sweep: not available in this build yet")
	return exitUsage
}
