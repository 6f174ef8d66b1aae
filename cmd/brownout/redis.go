package main

import (
	"context"
	"fmt"
	"slices"

	"brownout/redisstore"
	"brownout/scenarios"
)

// checkRedis connects once to the Redis at url, which a run (or a sweep's
// redis cells) will use, so that an unreachable server is reported as the
// setup problem it is (exit 2) before anything is calibrated or played,
// with what to do about it. "" needs no check: the embedded server is
// started by the run itself.
func checkRedis(ctx context.Context, url string) error {
	if url == "" {
		return nil
	}
	c, err := redisstore.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("breaker store redis: %w; start that server, or leave out --redis (and breaker.redis_url) to use the embedded one", err)
	}
	return c.Close()
}

// redisURLOf is the Redis a run of sc, or a sweep over stores, will reach:
// breaker.redis_url when some run uses the redis store, else "".
func redisURLOf(sc *scenarios.Scenario, stores []string) string {
	if !sc.Breaker.Enabled || (sc.Breaker.Store != scenarios.StoreRedis && !slices.Contains(stores, scenarios.StoreRedis)) {
		return ""
	}
	return sc.Breaker.RedisURL
}
