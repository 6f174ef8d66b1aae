package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"brownout/contract"
)

// The request and upstream logs hold millions of flat JSON objects whose
// values are integers and strings. Decoding them with encoding/json costs
// about 2.4 µs and a dozen allocations a line; this scanner reads the same
// lines in a fraction of that and interns the few distinct strings (phase,
// outcome, breaker state, route). Any line it does not recognise is handed
// to encoding/json, so the format stays plain JSON Lines.

// interner returns one shared string per distinct byte sequence, for the
// low-cardinality fields; an unbounded field (error text) is not interned.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if len(in) > 10000 {
		return string(b)
	}
	s := string(b)
	in[s] = s
	return s
}

var errFallback = errors.New("recording: line needs the general decoder")

// scanFlat walks a flat JSON object, calling field for each key with its
// value: a string (unquoted, raw bytes valid until the next call) or an
// integer. It returns errFallback for anything else.
func scanFlat(line []byte, field func(key, str []byte, num int64, isStr bool) error) error {
	b := bytes.Trim(line, " \t\r\n") // JSON's whitespace only
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return errFallback
	}
	i := 1
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	readString := func() ([]byte, error) {
		if i >= len(b) || b[i] != '"' {
			return nil, errFallback
		}
		start := i + 1
		for j := start; j < len(b); j++ {
			switch c := b[j]; {
			case c == '\\' || c < 0x20 || c >= 0x80:
				// Escapes, control characters and non-ASCII text
				// (which encoding/json validates) take the slow path.
				return nil, errFallback
			case c == '"':
				i = j + 1
				return b[start:j], nil
			}
		}
		return nil, errFallback
	}
	for first := true; ; first = false {
		skip()
		if first && i < len(b) && b[i] == '}' && i == len(b)-1 {
			return nil // {}
		}
		key, err := readString()
		if err != nil {
			return err
		}
		skip()
		if i >= len(b) || b[i] != ':' {
			return errFallback
		}
		i++
		skip()
		if i >= len(b) {
			return errFallback
		}
		if b[i] == '"' {
			s, err := readString()
			if err != nil {
				return err
			}
			if err := field(key, s, 0, true); err != nil {
				return err
			}
		} else {
			start := i
			if i < len(b) && b[i] == '-' {
				i++
			}
			digits := i
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				i++
			}
			// JSON integers: no leading zeros, at least one digit.
			if i == digits || (b[digits] == '0' && i-digits > 1) {
				return errFallback
			}
			n, err := strconv.ParseInt(string(b[start:i]), 10, 64)
			if err != nil {
				return errFallback
			}
			if err := field(key, nil, n, false); err != nil {
				return err
			}
		}
		skip()
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' && i == len(b)-1 {
			return nil
		}
		return errFallback
	}
}

// decodeFlatLine decodes one log line into v: field gets each key with its
// string or integer value from the fast scanner; a line the scanner does
// not take (escapes, other types, unknown keys) goes to encoding/json, so
// both paths accept exactly the same lines.
func decodeFlatLine[T any](line []byte, v *T, what string, field func(key, s []byte, n int64) error) error {
	var zero T
	*v = zero
	err := scanFlat(line, func(key, s []byte, n int64, isStr bool) error {
		if isStr != stringField(key) {
			return errFallback
		}
		return field(key, s, n)
	})
	if errors.Is(err, errFallback) {
		*v = zero
		if err := json.Unmarshal(line, v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	return err
}

// requestDecoder decodes request lines, sharing interned strings.
type requestDecoder struct{ in interner }

func (d *requestDecoder) decode(line []byte, r *Request) error {
	return decodeFlatLine(line, r, "request", func(key, s []byte, n int64) error {
		switch string(key) {
		case "seq":
			if n < 0 {
				return errFallback
			}
			r.Seq = uint64(n)
		case "t_ns":
			r.T = durationOf(n)
		case "intended_ns":
			r.Intended = durationOf(n)
		case "latency_ns":
			r.Latency = durationOf(n)
		case "real_latency_ns":
			r.RealLatency = durationOf(n)
		case "status":
			r.Status = int(n)
		case "outcome":
			r.Outcome = contract.Outcome(d.in.get(s))
		case "reason":
			r.Reason = contract.FallbackReason(d.in.get(s))
		case "phase":
			r.Phase = d.in.get(s)
		case "breaker":
			r.Breaker = contract.State(d.in.get(s))
		case "error":
			r.Error = string(s)
		case "replica":
			r.Replica = int(n)
		default:
			return errFallback
		}
		return nil
	})
}

// callDecoder decodes upstream call lines, sharing interned strings.
type callDecoder struct{ in interner }

func (d *callDecoder) decode(line []byte, c *UpstreamCall) error {
	return decodeFlatLine(line, c, "upstream call", func(key, s []byte, n int64) error {
		switch string(key) {
		case "seq":
			if n < 0 {
				return errFallback
			}
			c.Seq = uint64(n)
		case "t_ns":
			c.T = durationOf(n)
		case "phase":
			c.Phase = d.in.get(s)
		case "route":
			c.Route = d.in.get(s)
		case "fault":
			c.Fault = d.in.get(s)
		case "status":
			c.Status = int(n)
		case "duration_ns":
			c.Duration = durationOf(n)
		case "bytes":
			c.Bytes = n
		case "breaker":
			c.Breaker = contract.State(d.in.get(s))
		case "replica":
			c.Replica = int(n)
		default:
			return errFallback
		}
		return nil
	})
}

// stringField tells which keys of the two logs hold strings.
func stringField(key []byte) bool {
	switch string(key) {
	case "outcome", "reason", "phase", "breaker", "error", "route", "fault":
		return true
	}
	return false
}
