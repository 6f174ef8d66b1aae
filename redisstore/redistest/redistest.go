// Package redistest gives tests a real redis-server to run against, next to
// the embedded one: the server named by BROWNOUT_TEST_REDIS, which .ci/run
// starts. Outside CI a missing server skips only the real-server half of a
// test; in CI (CI=true) it fails the test, so the real half always runs
// there.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"brownout/redisstore"
)

// EnvURL names the real Redis the tests use, such as
// redis://127.0.0.1:6379.
const EnvURL = "BROWNOUT_TEST_REDIS"

// Real returns a client for the real Redis named by EnvURL, closed when the
// test ends, or nil after logging why when there is none to use outside CI.
// In CI a missing or unreachable server fails the test.
func Real(t testing.TB) *redis.Client {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	url := os.Getenv(EnvURL)
	if url == "" {
		if ci {
			t.Fatalf("CI=true but %s is not set: .ci/run starts a redis-server and sets it", EnvURL)
		}
		t.Logf("real redis half skipped: set %s=redis://127.0.0.1:6379 to run it against a redis-server", EnvURL)
		return nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvURL, url, err)
	}
	redisstore.Tune(opts)
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if ci {
			t.Fatalf("CI=true and %s=%s does not answer: %v", EnvURL, url, err)
		}
		t.Logf("real redis half skipped: %s=%s does not answer: %v", EnvURL, url, err)
		return nil
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
