package assistant

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// servers, upstream connections and in-flight calls must all be gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
