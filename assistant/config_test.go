package assistant

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsTheSeeds(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	b := c.Breaker
	if !b.Enabled || b.FailThreshold != 5 || b.ResetTimeout != 60*time.Second || c.CallTimeout != 30*time.Second ||
		b.Name != "huggingface_api" || b.HalfOpenMaxRequests != 1 || b.Interval != 0 || b.Scope != ScopeShared ||
		b.Policy != PolicyConsecutive || c.ExcerptCount != 3 || c.ExcerptChars != 200 || c.Mode != ModeChat {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	c, err := ConfigFromEnv(env(map[string]string{
		EnvEnabled: "false", EnvFailThreshold: "3", EnvTimeout: "2.5", EnvResetTimeout: "90s",
		EnvName: "hf", EnvAPIBase: "http://127.0.0.1:9000", EnvModel: "org/m", EnvToken: "hf_x",
		EnvPolicy: "ratio", EnvFailureRatio: "40%", EnvMinRequests: "7", EnvHalfOpenMax: "2",
		EnvInterval: "30", EnvScope: "per-endpoint", EnvMode: "text", EnvWindow: "1m", EnvBuckets: "6",
	}), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := c.Breaker
	if b.Enabled || b.FailThreshold != 3 || c.CallTimeout != 2500*time.Millisecond || b.ResetTimeout != 90*time.Second ||
		b.Name != "hf" || c.UpstreamURL != "http://127.0.0.1:9000" || c.Model != "org/m" || c.Token != "hf_x" ||
		b.Policy != PolicyRatio || b.FailureRatio != 0.4 || b.MinRequests != 7 || b.HalfOpenMaxRequests != 2 ||
		b.Interval != 30*time.Second || b.Scope != ScopePerEndpoint || c.Mode != ModeText ||
		b.Window != time.Minute || b.Buckets != 6 {
		t.Errorf("ConfigFromEnv = %+v", c)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("Validate with window and interval: %v, want both set", err)
	}
	c.Breaker.Interval = 0
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := c.Breaker.BucketPeriod(); got != 10*time.Second {
		t.Errorf("BucketPeriod = %v, want 10s", got)
	}

	// Unset variables leave the base alone.
	base := DefaultConfig()
	base.TopK = 9
	if c, err := ConfigFromEnv(env(nil), base); err != nil || c != base {
		t.Errorf("empty env: %+v, %v", c, err)
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, val, want string
	}{
		{EnvEnabled, "maybe", "true or false"},
		{EnvFailThreshold, "0", "from 1 to 10000"},
		{EnvFailThreshold, "-1", "from 1 to 10000"},
		{EnvFailThreshold, "five", "from 1 to 10000"},
		{EnvFailThreshold, "10001", "from 1 to 10000"},
		{EnvTimeout, "0", "greater than 0 and at most 3600"},
		{EnvTimeout, "abc", "greater than 0"},
		{EnvResetTimeout, "-5", "greater than 0 and at most 86400"},
		{EnvResetTimeout, "NaN", "greater than 0"},
		{EnvName, " x", "non-empty name"},
		{EnvAPIBase, "ftp://x", "http or https URL"},
		{EnvAPIBase, "localhost:9000", "http or https URL"},
		{EnvPolicy, "sometimes", "consecutive or ratio"},
		{EnvFailureRatio, "1.5", "at most 1"},
		{EnvFailureRatio, "0", "greater than 0"},
		{EnvMinRequests, "0", "from 1 to"},
		{EnvHalfOpenMax, "0", "from 1 to"},
		{EnvInterval, "-1", "from 0"},
		{EnvWindow, "-1", "from 0"},
		{EnvWindow, "1d", "from 0"},
		{EnvBuckets, "1", "from 2 to 1000"},
		{EnvBuckets, "1001", "from 2 to 1000"},
		{EnvScope, "global", "shared or per-endpoint"},
		{EnvMode, "stream", "chat, text or auto"},
	} {
		_, err := ConfigFromEnv(env(map[string]string{tc.name: tc.val}), DefaultConfig())
		if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), tc.val) {
			t.Errorf("%s=%q: err = %v, want one naming the variable, the value and %q", tc.name, tc.val, err, tc.want)
		}
	}
	// Every bad variable is reported, not only the first.
	_, err := ConfigFromEnv(env(map[string]string{EnvFailThreshold: "0", EnvResetTimeout: "x"}), DefaultConfig())
	if err == nil || !strings.Contains(err.Error(), EnvFailThreshold) || !strings.Contains(err.Error(), EnvResetTimeout) {
		t.Errorf("two bad variables: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"threshold 0", func(c *Config) { c.Breaker.FailThreshold = 0 }, "fail_threshold 0"},
		{"ratio 0", func(c *Config) { c.Breaker.Policy = PolicyRatio; c.Breaker.FailureRatio = 0 }, "failure_ratio"},
		{"ratio min 0", func(c *Config) { c.Breaker.Policy = PolicyRatio; c.Breaker.MinRequests = 0 }, "min_requests"},
		{"policy", func(c *Config) { c.Breaker.Policy = "" }, "policy"},
		{"reset 0", func(c *Config) { c.Breaker.ResetTimeout = 0 }, "reset_timeout"},
		{"half-open 0", func(c *Config) { c.Breaker.HalfOpenMaxRequests = 0 }, "half_open_max_requests"},
		{"interval", func(c *Config) { c.Breaker.Interval = -time.Second }, "interval"},
		{"window", func(c *Config) { c.Breaker.Window = -time.Second }, "window"},
		{"window and interval", func(c *Config) { c.Breaker.Window, c.Breaker.Interval = time.Minute, time.Minute }, "window 1m0s and interval 1m0s are both set"},
		{"buckets 1", func(c *Config) { c.Breaker.Window, c.Breaker.Buckets = time.Minute, 1 }, "buckets 1"},
		{"window below buckets", func(c *Config) { c.Breaker.Window, c.Breaker.Buckets = 5, 6 }, "shorter than its 6 buckets"},
		{"scope", func(c *Config) { c.Breaker.Scope = "x" }, "scope"},
		{"name", func(c *Config) { c.Breaker.Name = "" }, "name"},
		{"call timeout", func(c *Config) { c.CallTimeout = 0 }, "call_timeout"},
		{"url", func(c *Config) { c.UpstreamURL = "no-scheme" }, "upstream URL"},
		{"model", func(c *Config) { c.Model = " " }, "model"},
		{"mode", func(c *Config) { c.Mode = "x" }, "mode"},
		{"top_k", func(c *Config) { c.TopK = 0 }, "top_k"},
		{"cache size", func(c *Config) { c.CacheSize = -1 }, "cache size"},
		{"cache ttl", func(c *Config) { c.CacheTTL = -1 }, "cache ttl"},
		{"excerpts", func(c *Config) { c.ExcerptCount = 0 }, "excerpts count"},
		{"excerpt chars", func(c *Config) { c.ExcerptChars = 5 }, "excerpts chars"},
		{"max tokens", func(c *Config) { c.MaxTokens = -1 }, "max_tokens"},
	} {
		c := DefaultConfig()
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error about %q", tc.name, err, tc.want)
		}
		if _, nerr := New(c); nerr == nil {
			t.Errorf("%s: New accepted an invalid config", tc.name)
		}
	}
	// The ratio policy ignores fail_threshold, and vice versa.
	c := DefaultConfig()
	c.Breaker.Policy = PolicyRatio
	c.Breaker.FailThreshold = 0
	if err := c.Validate(); err != nil {
		t.Errorf("ratio policy with threshold 0: %v", err)
	}
}
