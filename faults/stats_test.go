package faults

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

// TestStatsAndMetrics: calls show up per phase, fault and status at
// /_brownout/stats and in the Prometheus metrics.
func TestStatsAndMetrics(t *testing.T) {
	s := newServer(t, onePhase(FaultSpec{Kind: "status", Code: 503, First: 2}))
	c := &http.Client{Transport: s.RoundTripper()}
	for range 5 {
		resp, err := post(c, "http://fake/generate", `{"inputs":"x"}`)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = readAll(resp.Body)
	}
	get := func(path string) []byte {
		resp, err := c.Get("http://fake" + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := readAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	var st Stats
	if err := json.Unmarshal(get("/_brownout/stats"), &st); err != nil {
		t.Fatal(err)
	}
	p := st.Phases[0]
	if st.Calls != 5 || p.ByFault["status"] != 2 || p.ByFault["none"] != 3 || p.ByStatus["503"] != 2 || p.ByRoute["generate"] != 5 {
		t.Errorf("stats = %+v", st)
	}
	m := string(get("/metrics"))
	for _, want := range []string{
		`brownout_fakehf_calls_total{code="503",fault="status",phase="p",route="generate"} 2`,
		`brownout_fakehf_calls_total{code="200",fault="none",phase="p",route="generate"} 3`,
		`brownout_fakehf_call_duration_seconds_count{phase="p",route="generate"} 5`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestHTTPMockResponder: the in-memory transport's RoundTrip is an
// httpmock.Responder, so packages mocking the HF URL can route to the fake.
func TestHTTPMockResponder(t *testing.T) {
	s := newServer(t, onePhase(FaultSpec{Kind: "status", Body: "overloaded", Every: 2}))
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, "https://api-inference.huggingface.co/models/acme/tiny", s.RoundTripper().RoundTrip)
	c := &http.Client{Transport: mock}
	var codes []int
	for range 4 {
		resp, err := c.Post("https://api-inference.huggingface.co/models/acme/tiny", "application/json", strings.NewReader(`{"inputs":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if got, want := codes, []int{200, 429, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}
