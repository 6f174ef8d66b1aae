package sim

import (
	"strings"
	"testing"
)

func TestChangesSince(t *testing.T) {
	reading := func(t *testing.T, body string) *healthReading {
		t.Helper()
		h, err := parseHealth([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	const open5 = `{"circuit_breaker":{"name":"b","state":"open","fail_count":5}}`
	tests := []struct {
		name       string
		prev, next string
		want       string
	}{
		{"closed to open", `{"circuit_breaker":{"name":"b","state":"closed","fail_count":4}}`, open5, "closed→open"},
		{"missed failed probe", open5, `{"circuit_breaker":{"name":"b","state":"open","fail_count":6}}`, "open→half-open half-open→open"},
		{"missed successful probe", open5, `{"circuit_breaker":{"name":"b","state":"closed","fail_count":0}}`, "open→half-open half-open→closed"},
		{"PyBreaker spelling", open5, `{"circuit_breaker":{"name":"b","state":"half_open","fail_count":5}}`, "open→half-open"},
		{"no change", open5, open5, ""},
		{"per-endpoint list", `{"circuit_breakers":[{"name":"b.chat","state":"closed"},{"name":"b.text","state":"closed"}]}`,
			`{"circuit_breaker":{"name":"b.chat","state":"closed"},"circuit_breakers":[{"name":"b.chat","state":"closed"},{"name":"b.text","state":"open"}]}`, "closed→open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tr := range reading(t, tt.next).changesSince(reading(t, tt.prev)) {
				got = append(got, string(tr.From+"→"+tr.To))
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestParseHealthErrors(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"circuit_breaker":"open"}`, `{"circuit_breaker":{"name":"b"}}`, `{`} {
		if _, err := parseHealth([]byte(body)); err == nil {
			t.Errorf("%q: want an error", body)
		}
	}
}

// FuzzParseHealth: any body either fails to parse or gives breakers with
// non-empty names and states; comparing two readings never panics.
func FuzzParseHealth(f *testing.F) {
	f.Add([]byte(`{"circuit_breaker":{"name":"b","state":"open","fail_count":5},"circuit_breakers":[{"name":"b","state":"open"}]}`))
	f.Add([]byte(`{"circuit_breaker":{"state":"HALF_OPEN","fail_count":1e30}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := parseHealth(body)
		if err != nil {
			return
		}
		for _, n := range h.names {
			if n == "" || h.states[n] == "" {
				t.Fatalf("breaker %q with state %q", n, h.states[n])
			}
		}
		for _, tr := range h.changesSince(h) {
			if tr.From == tr.To {
				t.Fatalf("transition to the same state: %+v", tr)
			}
		}
		if len(h.changesSince(nil)) > len(h.names) {
			t.Fatal("more transitions than breakers from nothing")
		}
	})
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"port": "8000", "breaker.reset_timeout.seconds": "1.5"}
	tests := []struct{ in, want, err string }{
		{"--port={port}", "--port=8000", ""},
		{"{breaker.reset_timeout.seconds}s {{literal}}", "1.5s {literal}", ""},
		{"{nope}", "", "unknown placeholder {nope}; known: {breaker.reset_timeout.seconds}, {port}"},
		{"{port", "", "unclosed"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, vars)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzExpand: expansion never panics, and text without braces is kept.
func FuzzExpand(f *testing.F) {
	f.Add("--port {port} {{x}} {")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expand(s, map[string]string{"port": "1"})
		if !strings.ContainsAny(s, "{}") && (err != nil || got != s) {
			t.Fatalf("%q became %q, %v", s, got, err)
		}
	})
}
