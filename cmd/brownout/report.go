package main

import (
	"context"
	"fmt"
	"io"
)

// cmdReport is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout report: not available in this build yet")
	return exitUsage
}
