package sim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"brownout/assistant"
	"brownout/faults"
)

// placeholders are the values a launched target's command, environment and
// URL may refer to as {name}. Durations are already divided by the time
// scale, in seconds ({….seconds}) or milliseconds ({….ms}).
func placeholders(w Wiring, port string) map[string]string {
	sc := w.Scenario
	b := sc.Breaker
	v := map[string]string{
		"port":                           port,
		"upstream":                       w.UpstreamURL,
		"time_scale":                     strconv.FormatFloat(w.TimeScale, 'f', -1, 64),
		"model":                          faults.DefaultModel,
		"breaker.enabled":                strconv.FormatBool(b.Enabled),
		"breaker.name":                   assistant.DefaultConfig().Breaker.Name,
		"breaker.policy":                 b.Policy,
		"breaker.fail_threshold":         strconv.Itoa(b.FailThreshold),
		"breaker.failure_ratio":          strconv.FormatFloat(float64(b.FailureRatio), 'f', -1, 64),
		"breaker.min_requests":           strconv.Itoa(b.MinRequests),
		"breaker.half_open_max_requests": strconv.Itoa(b.HalfOpenMaxRequests),
		"breaker.scope":                  b.Scope,
		"assistant.mode":                 sc.Assistant.Mode,
		"assistant.top_k":                strconv.Itoa(sc.Assistant.TopK),
		"assistant.cache.size":           strconv.Itoa(sc.Assistant.Cache.Size),
		"assistant.excerpts.count":       strconv.Itoa(sc.Assistant.Excerpts.Count),
		"assistant.excerpts.chars":       strconv.Itoa(sc.Assistant.Excerpts.Chars),
	}
	for name, d := range map[string]time.Duration{
		"breaker.reset_timeout": b.ResetTimeout.D(),
		"breaker.call_timeout":  b.CallTimeout.D(),
		"breaker.interval":      b.Interval.D(),
		"assistant.cache.ttl":   sc.Assistant.Cache.TTL.D(),
	} {
		v[name+".seconds"] = strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		v[name+".ms"] = strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
	}
	return v
}

// expand replaces every {name} in s; an unknown name is an error that
// lists the known ones. {{ and }} stand for literal braces.
func expand(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == '{' || c == '}') && i+1 < len(s) && s[i+1] == c {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: unclosed {", s)
		}
		name := s[i+1 : i+end]
		val, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("%q: unknown placeholder {%s}; known: {%s}", s, name, strings.Join(slices.Sorted(maps.Keys(vars)), "}, {"))
		}
		b.WriteString(val)
		i += end
	}
	return b.String(), nil
}

// TargetEnv is the environment brownout gives a launched target, as
// NAME=value lines: PORT, the upstream URL under upstreamEnv, HF_MODEL,
// the seed's CIRCUIT_BREAKER_ENABLED, _FAIL_THRESHOLD, _RESET_TIMEOUT and
// _TIMEOUT_SECONDS (seconds, divided by the time scale) and _NAME, and the
// built-in assistant's CIRCUIT_BREAKER_POLICY, _FAILURE_RATIO,
// _MIN_REQUESTS, _HALF_OPEN_MAX_REQUESTS, _INTERVAL, _SCOPE and HF_MODE;
// then extra, whose values may hold placeholders, added or overriding.
func TargetEnv(w Wiring, vars map[string]string, upstreamEnv string, extra map[string]string) ([]string, error) {
	env := map[string]string{
		"PORT":                     "{port}",
		upstreamEnv:                "{upstream}",
		assistant.EnvModel:         "{model}",
		assistant.EnvEnabled:       "{breaker.enabled}",
		assistant.EnvFailThreshold: "{breaker.fail_threshold}",
		assistant.EnvResetTimeout:  "{breaker.reset_timeout.seconds}",
		assistant.EnvTimeout:       "{breaker.call_timeout.seconds}",
		assistant.EnvName:          "{breaker.name}",
		assistant.EnvPolicy:        "{breaker.policy}",
		assistant.EnvFailureRatio:  "{breaker.failure_ratio}",
		assistant.EnvMinRequests:   "{breaker.min_requests}",
		assistant.EnvHalfOpenMax:   "{breaker.half_open_max_requests}",
		assistant.EnvInterval:      "{breaker.interval.seconds}",
		assistant.EnvScope:         "{breaker.scope}",
		assistant.EnvMode:          "{assistant.mode}",
	}
	maps.Copy(env, extra)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(env)) {
		v, err := expand(env[name], vars)
		if err != nil {
			return nil, fmt.Errorf("target env %s: %w", name, err)
		}
		if v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out, nil
}
