package faults

import (
	"cmp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error, in order; nil = valid
	}{
		{"empty is valid", Config{}, nil},
		{"all kinds", Config{Phases: []Phase{{Name: "a", Faults: []FaultSpec{
			{Kind: "status", Code: 503}, {Kind: "latency", Latency: &DistSpec{Dist: "fixed", Value: time.Second}},
			{Kind: "hang"}, {Kind: "reset"}, {Kind: "empty"}, {Kind: "malformed", Mode: "invalid"},
			{Kind: "wrong_content_type"}, {Kind: "slow_body", BytesPerSecond: 10}, {Kind: "stream_cut", Tokens: 2},
			{Kind: "stream_error", Tokens: 1, Message: "x"},
		}}}}, nil},
		{"unknown kind", Config{Phases: []Phase{{Name: "outage", Faults: []FaultSpec{{Kind: "stauts"}}}}},
			[]string{`phase "outage": faults[0]: unknown kind "stauts" (want one of empty, hang, latency,`}},
		{"every error at once", Config{Phases: []Phase{
			{Name: "a", TTFT: DistSpec{Dist: "lognormal", Median: time.Second}},
			{Name: "b", Duration: time.Second, Faults: []FaultSpec{
				{Kind: "status", Rate: rate(1.5)},
				{Kind: "slow_body", Tokens: 3},
			}},
		}}, []string{
			`phase "a": duration: must be > 0 (only the last phase may be endless)`,
			`phase "a": ttft: lognormal: need 0 < median <= p99`,
			`phase "b": faults[0]: rate: must be in [0,1], got 1.5`,
			`phase "b": faults[0]: status: need code or body`,
			`phase "b": faults[1]: tokens: not a parameter of kind "slow_body"`,
		}},
		{"unnamed and duplicate", Config{Phases: []Phase{{Duration: 1}, {Name: "phases[0]"}}},
			[]string{`phase "phases[0]": duplicate name (also phases[0])`}},
		{"unknown body", Config{Phases: []Phase{{Faults: []FaultSpec{{Kind: "status", Body: "teapot"}}}}},
			[]string{`faults[0]: body: unknown "teapot"`}},
		{"latency needs dist", Config{Phases: []Phase{{Faults: []FaultSpec{{Kind: "latency"}}}}},
			[]string{`faults[0]: latency: missing distribution`}},
		{"rate_to out of range", Config{Phases: []Phase{{Faults: []FaultSpec{{Kind: "reset", RateTo: rate(-0.1)}}}}},
			[]string{`faults[0]: rate_to: must be in [0,1], got -0.1`}},
		{"bad code", Config{Phases: []Phase{{Faults: []FaultSpec{{Kind: "status", Code: 99}}}}},
			[]string{`code: must be an HTTP status`}},
		{"dist param unused", Config{Phases: []Phase{{PerToken: DistSpec{Dist: "fixed", Value: 1, Median: 2}}}},
			[]string{`per_token: median: not used by dist "fixed"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			msg := err.Error()
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error\n%s\nlacks %q", err, w)
				}
				msg = msg[i+len(w):]
			}
			if _, err := New(tt.cfg); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    string // fmt of the interesting fields
		wantErr string
	}{
		{"reset", "reset rate=<nil>", ""},
		{"status:body=model_loading,rate=0.5,estimated_time=30s", "status rate=0.5 body=model_loading est=30s", ""},
		{"latency:dist=lognormal,median=2s,p99=20s,first=10", "latency rate=<nil> first=10 lat=lognormal/2s/20s", ""},
		{"stream_error:tokens=3,message=oops, it broke", "stream_error rate=<nil> tokens=3 msg=oops, it broke", ""},
		{"status:code=503,retry_after=2s,every=3", "status rate=<nil> every=3 code=503 retry=2s", ""},
		{"status:rate=abc", "", "rate"},
		{"reset:rate=0,rate_to=0.8", "reset rate=0 rate_to=0.8", ""},
		{"reset:rate_to=x", "", "rate_to"},
		{"status:bogus=1,code=500", "", "unknown key"},
		{"slow_body", "", "bytes_per_second: must be > 0"},
		{"nope", "", "unknown kind"},
		{"status:code", "", "want key=value"},
	}
	for _, tt := range tests {
		f, err := ParseFault(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFault(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFault(%q): %v", tt.in, err)
			continue
		}
		got := f.Kind + " rate="
		if f.Rate == nil {
			got += "<nil>"
		} else {
			got += strconv.FormatFloat(*f.Rate, 'f', -1, 64)
		}
		add := func(cond bool, s string) {
			if cond {
				got += " " + s
			}
		}
		if f.RateTo != nil {
			got += " rate_to=" + strconv.FormatFloat(*f.RateTo, 'f', -1, 64)
		}
		add(f.First != 0, "first="+strconv.Itoa(f.First))
		add(f.Every != 0, "every="+strconv.Itoa(f.Every))
		add(f.Tokens != 0, "tokens="+strconv.Itoa(f.Tokens))
		add(f.Code != 0, "code="+strconv.Itoa(f.Code))
		add(f.Body != "", "body="+f.Body)
		add(f.EstimatedTime != 0, "est="+f.EstimatedTime.String())
		add(f.RetryAfter != 0, "retry="+f.RetryAfter.String())
		add(f.Message != "", "msg="+f.Message)
		if f.Latency != nil {
			got += " lat=" + f.Latency.Dist + "/" + f.Latency.Median.String() + "/" + f.Latency.P99.String()
		}
		if got != tt.want {
			t.Errorf("ParseFault(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestStatusMessageDoesNotLeak: a status fault's message overrides its
// named body's text for that fault only, not for later faults.
func TestStatusMessageDoesNotLeak(t *testing.T) {
	for _, msg := range []string{"custom", ""} {
		f, err := newStatusFault(FaultSpec{Kind: "status", Body: "overloaded", Message: msg}, buildEnv{model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"error":"` + cmp.Or(msg, "Model is overloaded") + `","error_type":"overloaded"}`
		if got := string(f.(*statusFault).body); got != want {
			t.Errorf("message %q: body %s, want %s", msg, got, want)
		}
	}
}

// FuzzParseFault: the --fault flag parser never panics, and what it
// accepts either passes Config validation or is refused by it with an
// error, never a panic in the server's builder.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"reset", "reset:rate=0,rate_to=0.8", "status:body=model_loading,rate=0.5,estimated_time=30s",
		"latency:dist=lognormal,median=2s,p99=20s,first=10", "stream_error:tokens=3,message=oops, it broke", "status:rate_to=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseFault(s)
		if err != nil {
			return
		}
		cfg := Config{Phases: []Phase{{Name: "p", Faults: []FaultSpec{spec}}}}
		if cfg.Validate() != nil {
			return
		}
		srv, err := New(cfg)
		if err != nil {
			t.Fatalf("Validate accepted %q but New refused it: %v", s, err)
		}
		srv.Close()
	})
}
