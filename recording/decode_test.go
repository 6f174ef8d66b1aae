package recording

import (
	"encoding/json"
	"testing"
	"time"

	"brownout/contract"

	"github.com/google/go-cmp/cmp"
)

var decodeCases = []string{
	`{"seq":1,"t_ns":5,"intended_ns":3,"latency_ns":7,"status":200,"outcome":"upstream","phase":"healthy","breaker":"closed"}`,
	`{"seq":2,"t_ns":-5,"latency_ns":0,"status":0,"outcome":"error","phase":"a b","breaker":"open","error":"Post \"http://x\": EOF"}`,
	`{ "seq" : 3 , "outcome":"l1_cache","reason":"circuit_breaker_open" }`,
	`{"seq":4,"phase":"caf\u00e9","t_ns":1e3}`,
	`{"seq":5,"extra":true}`,
	`{"seq":6,"phase":null}`,
	`{"seq":7,"t_ns":"12"}`,
	`{"seq":8,"replica":3,"outcome":"upstream"}`,
	`{"seq":9,"replica":"3"}`,
	`{}`,
}

func TestRequestDecoderMatchesEncodingJSON(t *testing.T) {
	d := requestDecoder{in: interner{}}
	for _, line := range decodeCases {
		var want Request
		wantErr := json.Unmarshal([]byte(line), &want)
		var got Request
		gotErr := d.decode([]byte(line), &got)
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: error %v, encoding/json says %v", line, gotErr, wantErr)
			continue
		}
		if wantErr == nil {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-encoding/json +fast):\n%s", line, diff)
			}
		}
	}
}

func TestCallDecoderMatchesEncodingJSON(t *testing.T) {
	d := callDecoder{in: interner{}}
	c := UpstreamCall{Seq: 9, T: time.Second, Phase: "outage", Route: "chat", Fault: "status", Status: 503, Duration: time.Millisecond, Bytes: 93, Breaker: "half-open", Replica: 4}
	line, _ := json.Marshal(c)
	var got UpstreamCall
	if err := d.decode(line, &got); err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Errorf("decoded %+v, want %+v", got, c)
	}
	if err := d.decode([]byte(`{"seq":"x"}`), &got); err == nil {
		t.Error("want an error for a string seq")
	}
}

func FuzzRequestDecoder(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, line string) {
		d := requestDecoder{in: interner{}}
		matchesEncodingJSON(t, line, d.decode)
	})
}

func FuzzCallDecoder(f *testing.F) {
	f.Add(`{"seq":1,"t_ns":5,"phase":"outage","route":"/v1/chat/completions","fault":"status","status":503,"duration_ns":7,"bytes":93,"breaker":"closed","replica":2}`)
	f.Add(`{"seq":2,"route":"/x","status":200,"breaker":"open"}`)
	f.Add(`{"seq":3,"replica":-1}`)
	f.Add(`{"seq":4,"replica":"1"}`)
	f.Fuzz(func(t *testing.T, line string) {
		d := callDecoder{in: interner{}}
		matchesEncodingJSON(t, line, d.decode)
	})
}

// matchesEncodingJSON fails unless decode accepts exactly the lines
// encoding/json accepts, with the same result.
func matchesEncodingJSON[T comparable](t *testing.T, line string, decode func([]byte, *T) error) {
	var want, got T
	wantErr := json.Unmarshal([]byte(line), &want)
	gotErr := decode([]byte(line), &got)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", line, gotErr, wantErr)
	}
	if wantErr == nil && want != got {
		t.Fatalf("%q: got %+v, encoding/json %+v", line, got, want)
	}
}

func BenchmarkRequestDecode(b *testing.B) {
	line := appendRequest(nil, &Request{Seq: 123456, T: 61 * time.Second, Latency: 4 * time.Millisecond, Status: 200, Outcome: contract.OutcomeExcerpts, Reason: "circuit_breaker_open", Phase: "outage", Breaker: contract.StateOpen})
	b.Run("fast", func(b *testing.B) {
		d := requestDecoder{in: interner{}}
		var r Request
		for b.Loop() {
			if err := d.decode(line, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		var r Request
		for b.Loop() {
			if err := json.Unmarshal(line, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
