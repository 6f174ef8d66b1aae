package main

import (
	"context"
	"fmt"
	"io"
)

// cmdValidate is a placeholder until its issue lands; it fails loudly rather than pretending.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brownout validate: not available in this build yet")
	return exitUsage
}
