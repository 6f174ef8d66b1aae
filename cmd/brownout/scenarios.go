package main

import (
	"context"
	"fmt"
	"io"
)

// cmdScenarios is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout scenarios: not available in this build yet")
	return exitUsage
}
