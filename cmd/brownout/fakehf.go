package main

import (
	"context"
	"fmt"
	"io"
)

// cmdFakeHF is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdFakeHF(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout fakehf: not available in this build yet")
	return exitUsage
}
