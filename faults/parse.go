package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseFault reads the command-line form of a fault, KIND or
// KIND:key=val,key=val, for example
//
//	status:body=model_loading,rate=0.5,estimated_time=30s
//	latency:dist=lognormal,median=2s,p99=20s,first=10
//	stream_cut:tokens=3,every=4
//
// Keys are the YAML names of [FaultSpec] (rate, first, every, after, code,
// body, retry_after, estimated_time, duration, mode, content_type,
// bytes_per_second, tokens, message) plus the [DistSpec] keys of a latency
// fault (dist, value, min, max, mean, stddev, median, p99, cap). Because
// messages may contain commas, message= takes the rest of the string and
// must come last. The result is checked like a Config fault.
func ParseFault(s string) (FaultSpec, error) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(s), ":")
	f := FaultSpec{Kind: kind}
	for rest != "" {
		var kv string
		if strings.HasPrefix(rest, "message=") {
			kv, rest = rest, ""
		} else {
			kv, rest, _ = strings.Cut(rest, ",")
		}
		key, val, ok := strings.Cut(kv, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return f, fmt.Errorf("fault %q: %q: want key=value", s, kv)
		}
		if err := setFaultKey(&f, key, val); err != nil {
			return f, fmt.Errorf("fault %q: %s: %w", s, key, err)
		}
	}
	var errs []error
	for _, err := range flatten(validateFault(f)) {
		errs = append(errs, fmt.Errorf("fault %q: %w", s, err))
	}
	return f, errors.Join(errs...)
}

func setFaultKey(f *FaultSpec, key, val string) error {
	val = strings.TrimSpace(val)
	dur := func(p *time.Duration) error {
		d, err := time.ParseDuration(val)
		*p = d
		return err
	}
	num := func(p *int) error {
		n, err := strconv.Atoi(val)
		*p = n
		return err
	}
	lat := func() *DistSpec {
		if f.Latency == nil {
			f.Latency = &DistSpec{}
		}
		return f.Latency
	}
	switch key {
	case "rate":
		r, err := strconv.ParseFloat(val, 64)
		f.Rate = &r
		return err
	case "rate_to":
		r, err := strconv.ParseFloat(val, 64)
		f.RateTo = &r
		return err
	case "first":
		return num(&f.First)
	case "every":
		return num(&f.Every)
	case "after":
		return num(&f.After)
	case "code":
		return num(&f.Code)
	case "body":
		f.Body = val
	case "retry_after":
		return dur(&f.RetryAfter)
	case "estimated_time":
		return dur(&f.EstimatedTime)
	case "duration":
		return dur(&f.Duration)
	case "mode":
		f.Mode = val
	case "content_type":
		f.ContentType = val
	case "bytes_per_second":
		return num(&f.BytesPerSecond)
	case "tokens":
		return num(&f.Tokens)
	case "message":
		f.Message = val
	case "dist":
		lat().Dist = val
	case "value":
		return dur(&lat().Value)
	case "min":
		return dur(&lat().Min)
	case "max":
		return dur(&lat().Max)
	case "mean":
		return dur(&lat().Mean)
	case "stddev":
		return dur(&lat().Stddev)
	case "median":
		return dur(&lat().Median)
	case "p99":
		return dur(&lat().P99)
	case "cap":
		return dur(&lat().Cap)
	default:
		return fmt.Errorf("unknown key")
	}
	return nil
}
