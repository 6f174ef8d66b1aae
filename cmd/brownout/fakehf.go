package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/goccy/go-yaml"

	"brownout/faults"
	"brownout/scenarios"
)

// cmdFakeHF runs the fake HuggingFace inference server standalone until ctx
// is cancelled, as a test double other teams can point their apps at.
func cmdFakeHF(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fakehf", stderr,
		"usage: brownout fakehf [--listen ADDR] [--config FILE] [--fault KIND:key=val,... ...] [flags]",
		"",
		"Serves the HuggingFace inference API / TGI routes (POST /v1/chat/completions, /v1/completions,",
		"/, /models/{id}, /generate, /generate_stream; GET /health, /info, /metrics, /_brownout/stats)",
		"with the faults you ask for. --config is YAML with the faults.Config fields; the flags below",
		"override it and apply to every phase. Fault kinds: "+strings.Join(faults.Kinds(), ", ")+".",
		"See docs/fakehf.md.",
	)
	var (
		listen      = fs.String("listen", "127.0.0.1:9000", "address to listen on (loopback unless you say otherwise)")
		config      = fs.String("config", "", "YAML file with model, seed, max_tokens and phases")
		faultFlags  = fs.StringArray("fault", nil, "add a fault to every phase, KIND or KIND:key=val,... (repeatable; first that fires wins)")
		seed        = fs.Int64("seed", 0, "seed of fault decisions, timing and generated text")
		model       = fs.String("model", "", "served model id (default "+faults.DefaultModel+")")
		ttft        = fs.String("ttft", "", "time to first token: DURATION, fixed:D, uniform:MIN,MAX, normal:MEAN,SD or lognormal:MEDIAN,P99")
		perToken    = fs.String("per-token", "", "time between tokens, same forms as --ttft")
		tokens      = fs.Int("tokens", 0, "completion length when the request gives none (default 16)")
		concurrency = fs.Int("concurrency", 0, "requests in service at once, 0 = unlimited")
		queue       = fs.Int("queue", 0, "requests waiting for service before 429 overloaded, 0 = unlimited")
	)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "brownout fakehf: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}

	var cfg faults.Config
	if *config != "" {
		data, err := scenarios.ReadFile(*config)
		if err == nil {
			err = scenarios.CheckYAML(*config, data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "brownout fakehf: %v\n", err)
			return exitUsage
		}
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.DisallowUnknownField()); err != nil {
			fmt.Fprintf(stderr, "brownout fakehf: %s: %s\n", *config, yaml.FormatError(err, false, true))
			return exitUsage
		}
	}
	if len(cfg.Phases) == 0 {
		cfg.Phases = []faults.Phase{{Name: "default"}}
	}
	var errs []error
	set := fs.Changed
	if set("seed") {
		cfg.Seed = *seed
	}
	if set("model") {
		cfg.Model = *model
	}
	var extra []faults.FaultSpec
	for _, s := range *faultFlags {
		f, err := faults.ParseFault(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--fault: %w", err))
			continue
		}
		extra = append(extra, f)
	}
	var ttftSpec, perTokenSpec faults.DistSpec
	var err error
	if set("ttft") {
		if ttftSpec, err = faults.ParseDist(*ttft); err != nil {
			errs = append(errs, fmt.Errorf("--ttft: %w", err))
		}
	}
	if set("per-token") {
		if perTokenSpec, err = faults.ParseDist(*perToken); err != nil {
			errs = append(errs, fmt.Errorf("--per-token: %w", err))
		}
	}
	for i := range cfg.Phases {
		p := &cfg.Phases[i]
		p.Faults = append(p.Faults, extra...)
		if set("ttft") {
			p.TTFT = ttftSpec
		}
		if set("per-token") {
			p.PerToken = perTokenSpec
		}
		if set("tokens") {
			p.Tokens = *tokens
		}
		if set("concurrency") {
			p.Concurrency = *concurrency
		}
		if set("queue") {
			p.Queue = *queue
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "brownout fakehf: %v\n", err)
		return exitUsage
	}
	srv, err := faults.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "brownout fakehf: %v\n", err)
		return exitUsage
	}
	defer srv.Close()

	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		// A setup problem (address in use, not local), like a bad flag.
		fmt.Fprintf(stderr, "brownout fakehf: %v\n", err)
		return exitUsage
	}
	if w := nonLoopbackWarning(l.Addr()); w != "" {
		fmt.Fprintf(stderr, "brownout fakehf: warning: %s: the fake server is reachable from other machines\n", w)
	}
	names := make([]string, len(cfg.Phases))
	for i, p := range cfg.Phases {
		names[i] = fmt.Sprintf("%s(%d faults)", p.Name, len(p.Faults))
	}
	fmt.Fprintf(stdout, "brownout fakehf: listening on http://%s (seed %d, phases %s)\n", l.Addr(), cfg.Seed, strings.Join(names, ", "))
	fmt.Fprintf(stdout, "try: curl -s http://%s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"tgi\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":8}'\n", l.Addr())
	if err := srv.Serve(ctx, l); err != nil {
		fmt.Fprintf(stderr, "brownout fakehf: %v\n", err)
		return exitFailed
	}
	st := srv.Stats()
	fmt.Fprintf(stdout, "brownout fakehf: stopped after %d calls\n", st.Calls)
	return exitOK
}
