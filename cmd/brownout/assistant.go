package main

import (
	"context"
	"fmt"
	"io"
)

// cmdAssistant is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdAssistant(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout assistant: not available in this build yet")
	return exitUsage
}
