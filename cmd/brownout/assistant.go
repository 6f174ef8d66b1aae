package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"brownout/assistant"
	"brownout/contract"
)

// assistantGetenv reads the environment for `brownout assistant`; tests may
// replace it.
var assistantGetenv = os.Getenv

// cmdAssistant runs the built-in assistant service standalone until ctx is
// cancelled (SIGINT/SIGTERM). Settings come from the defaults, then the
// seed's environment variables, then the flags the user gave.
func cmdAssistant(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("assistant", stderr,
		"usage: brownout assistant [--listen ADDR] [--upstream URL] [flags]",
		"",
		"Runs the assistant service (POST /assistant/query, GET /assistant/health/circuit-breaker,",
		"GET /metrics). Settings: defaults, then environment variables (CIRCUIT_BREAKER_*, HF_*),",
		"then these flags. See docs/assistant.md.",
	)
	// Settings are layered: defaults, then the environment, then the flags.
	// The flags are bound to the environment's result, so a flag the user
	// does not give leaves that value alone (and --help shows it). Every
	// problem is reported at once: the environment's, then the flags'.
	var flagErrs []string
	cfg, err := assistant.ConfigFromEnv(assistantGetenv, assistant.DefaultConfig())
	if err != nil {
		flagErrs = append(flagErrs, strings.Split(err.Error(), "\n")...)
	}
	listen := fs.String("listen", "127.0.0.1:8000", "address to listen on (loopback unless you say otherwise)")
	fs.StringVar(&cfg.UpstreamURL, "upstream", cfg.UpstreamURL, "base URL of the HuggingFace inference API (env HF_API_BASE)")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "model id (env HF_MODEL)")
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "upstream endpoint: chat, text or auto (env HF_MODE)")
	fs.IntVar(&cfg.MaxTokens, "max-tokens", cfg.MaxTokens, "max_tokens sent upstream; 0 leaves it to the upstream")
	breakerFlag := fs.String("breaker", "", "on, or off to call the upstream without a breaker (env CIRCUIT_BREAKER_ENABLED; default on)")
	fs.StringVar(&cfg.Breaker.Name, "name", cfg.Breaker.Name, "breaker name (env CIRCUIT_BREAKER_NAME)")
	fs.StringVar(&cfg.Breaker.Policy, "policy", cfg.Breaker.Policy, "trip policy: consecutive or ratio (env CIRCUIT_BREAKER_POLICY)")
	fs.Uint32Var(&cfg.Breaker.FailThreshold, "fail-threshold", cfg.Breaker.FailThreshold, "consecutive failures that trip the breaker (env CIRCUIT_BREAKER_FAIL_THRESHOLD)")
	fs.Float64Var(&cfg.Breaker.FailureRatio, "failure-ratio", cfg.Breaker.FailureRatio, "failure ratio that trips the breaker, policy ratio (env CIRCUIT_BREAKER_FAILURE_RATIO)")
	fs.Uint32Var(&cfg.Breaker.MinRequests, "min-requests", cfg.Breaker.MinRequests, "calls needed before policy ratio may trip (env CIRCUIT_BREAKER_MIN_REQUESTS)")
	fs.DurationVar(&cfg.Breaker.ResetTimeout, "reset-timeout", cfg.Breaker.ResetTimeout, "time open before half-open (env CIRCUIT_BREAKER_RESET_TIMEOUT)")
	fs.Uint32Var(&cfg.Breaker.HalfOpenMaxRequests, "half-open-max", cfg.Breaker.HalfOpenMaxRequests, "probes let through while half-open (env CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS)")
	fs.DurationVar(&cfg.Breaker.Interval, "interval", cfg.Breaker.Interval, "closed-state count reset period (fixed window), 0 = never (env CIRCUIT_BREAKER_INTERVAL)")
	fs.DurationVar(&cfg.Breaker.Window, "window", cfg.Breaker.Window, "rolling window the closed state counts over, 0 = none; exclusive with --interval (env CIRCUIT_BREAKER_WINDOW)")
	fs.Uint32Var(&cfg.Breaker.Buckets, "buckets", cfg.Breaker.Buckets, "buckets of the rolling window, 0 = 10 (env CIRCUIT_BREAKER_BUCKETS)")
	fs.StringVar(&cfg.Breaker.Scope, "scope", cfg.Breaker.Scope, "shared or per-endpoint (env CIRCUIT_BREAKER_SCOPE)")
	fs.DurationVar(&cfg.CallTimeout, "call-timeout", cfg.CallTimeout, "timeout of one upstream call (env CIRCUIT_BREAKER_TIMEOUT_SECONDS)")
	fs.IntVar(&cfg.TopK, "top-k", cfg.TopK, "chunks retrieved per question")
	fs.IntVar(&cfg.CacheSize, "cache-size", cfg.CacheSize, "L1 cache entries, 0 disables it")
	fs.DurationVar(&cfg.CacheTTL, "cache-ttl", cfg.CacheTTL, "L1 cache entry lifetime, 0 = forever")
	fs.IntVar(&cfg.ExcerptCount, "excerpts", cfg.ExcerptCount, "excerpts in a level-2 fallback")
	fs.IntVar(&cfg.ExcerptChars, "excerpt-chars", cfg.ExcerptChars, "characters per excerpt")
	fs.StringVar(&cfg.CorpusDir, "corpus", cfg.CorpusDir, "folder of Markdown files to retrieve from (default: the embedded corpus)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "log as JSON lines instead of text")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "brownout assistant: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if fs.Changed("breaker") {
		if on, ok := parseOnOff(strings.ToLower(*breakerFlag)); ok {
			cfg.Breaker.Enabled = on
		} else {
			flagErrs = append(flagErrs, fmt.Sprintf("--breaker=%q is invalid: want on or off", *breakerFlag))
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		flagErrs = append(flagErrs, fmt.Sprintf("--log-level=%q is invalid: want debug, info, warn or error", *logLevel))
	}
	if err := cfg.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			flagErrs = append(flagErrs, assistantFlagFor(line)+line)
		}
	}
	if len(flagErrs) > 0 {
		fmt.Fprintf(stderr, "brownout assistant: invalid settings:\n%s\n", assistantIndent(strings.Join(flagErrs, "\n")))
		return exitUsage
	}

	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, hopts)
	if *logJSON {
		handler = slog.NewJSONHandler(stderr, hopts)
	}
	logger := slog.New(handler)

	svc, err := assistant.New(cfg, assistant.WithLogger(logger))
	if err != nil {
		fmt.Fprintf(stderr, "brownout assistant: %v\n", err)
		return exitUsage
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		// A setup problem (address in use, not local), like a bad flag.
		fmt.Fprintf(stderr, "brownout assistant: %v\n", err)
		return exitUsage
	}
	if w := nonLoopbackWarning(l.Addr()); w != "" {
		logger.Warn(w+": the assistant is reachable from other machines", "addr", l.Addr().String())
	}
	breakerDesc := "off"
	if cfg.Breaker.Enabled {
		breakerDesc = fmt.Sprintf("%s %s, threshold %d, reset %v", cfg.Breaker.Scope, cfg.Breaker.Policy,
			cfg.Breaker.FailThreshold, cfg.Breaker.ResetTimeout)
		if cfg.Breaker.Policy == assistant.PolicyRatio {
			breakerDesc = fmt.Sprintf("%s %s, ratio %g of %d, reset %v", cfg.Breaker.Scope, cfg.Breaker.Policy,
				cfg.Breaker.FailureRatio, cfg.Breaker.MinRequests, cfg.Breaker.ResetTimeout)
		}
		switch {
		case cfg.Breaker.Window > 0:
			breakerDesc += fmt.Sprintf(", rolling window %v (bucket %v)", cfg.Breaker.Window, cfg.Breaker.BucketPeriod())
		case cfg.Breaker.Interval > 0:
			breakerDesc += fmt.Sprintf(", counts cleared every %v", cfg.Breaker.Interval)
		}
	}
	fmt.Fprintf(stdout, "brownout assistant: listening on http://%s (upstream %s, mode %s, breaker %s, call timeout %v)\n",
		l.Addr(), cfg.UpstreamURL, cfg.Mode, breakerDesc, cfg.CallTimeout)
	fmt.Fprintf(stdout, "try: curl -s -X POST http://%s%s -H 'Content-Type: application/json' -d '{\"question\":\"What is a circuit breaker?\"}'\n",
		l.Addr(), contract.PathQuery)

	start := time.Now()
	if err := svc.Serve(ctx, l); err != nil {
		fmt.Fprintf(stderr, "brownout assistant: %v\n", err)
		return exitFailed
	}
	// A server stopped by SIGINT/SIGTERM after a clean shutdown exits 0.
	fmt.Fprintf(stdout, "brownout assistant: stopped after %v\n", time.Since(start).Round(time.Millisecond))
	return exitOK
}

// assistantSettingFlags maps the setting names that Config.Validate's
// messages start with to the flags that set them.
var assistantSettingFlags = []struct{ setting, flag string }{
	{"breaker name", "--name"}, {"fail_threshold", "--fail-threshold"}, {"failure_ratio", "--failure-ratio"},
	{"min_requests", "--min-requests"}, {"policy", "--policy"}, {"reset_timeout", "--reset-timeout"},
	{"half_open_max_requests", "--half-open-max"}, {"interval", "--interval"}, {"window", "--window"}, {"buckets", "--buckets"}, {"scope", "--scope"},
	{"call_timeout", "--call-timeout"}, {"upstream URL", "--upstream"}, {"model", "--model"},
	{"mode", "--mode"}, {"max_tokens", "--max-tokens"}, {"top_k", "--top-k"}, {"cache size", "--cache-size"},
	{"cache ttl", "--cache-ttl"}, {"excerpts count", "--excerpts"}, {"excerpts chars", "--excerpt-chars"},
}

// assistantFlagFor returns "--flag: " for a validation message, or "".
func assistantFlagFor(msg string) string {
	for _, sf := range assistantSettingFlags {
		if strings.HasPrefix(msg, sf.setting+" ") {
			return sf.flag + ": "
		}
	}
	return ""
}

// assistantIndent indents each line of s by two spaces.
func assistantIndent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
