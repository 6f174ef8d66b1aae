//go:build !race

// Like TestTimeCompressionAgrees, these tests measure behaviour at real
// speed over real sockets; `make test` runs them in its pass without -race.

package sim

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/contract"
	"brownout/recording"
)

// loggedTransitions reads the transitions a launched built-in assistant
// logged (JSON, with their exact wall-clock times) and converts them to
// the run's scenario time. The run's start t0 is recovered from the vegeta
// results, whose timestamps are t0 plus the request's scenario start.
func loggedTransitions(t *testing.T, dir string, lr *loadedRun) []recording.Transition {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, recording.VegetaFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var first vegeta.Result
	if err := vegeta.NewDecoder(f).Decode(&first); err != nil {
		t.Fatal(err)
	}
	t0 := first.Timestamp.Add(-lr.requests[0].T)
	log, err := os.Open(filepath.Join(dir, TargetLogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var out []recording.Transition
	sc := bufio.NewScanner(log)
	for sc.Scan() {
		var line struct {
			Msg, Breaker string
			From, To     contract.State
			At           time.Time
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "circuit breaker state change" {
			continue
		}
		out = append(out, recording.Transition{Breaker: line.Breaker, From: line.From, To: line.To,
			T: time.Duration(float64(line.At.Sub(t0)) * lr.header.TimeScale)})
	}
	return out
}

// TestLaunchedAgreesWithInProcess plays three scenarios against the
// built-in assistant at the same time scale twice: in process, where the
// breaker's transitions are exact, and launched as a separate process
// (`brownout assistant`) whose breaker brownout only sees by polling its
// health endpoint. The launched run must show the same transitions and
// verdicts as the in-process one, and each polled transition's interval
// must hold the exact time the service itself logged.
func TestLaunchedAgreesWithInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("plays two minutes of wall time")
	}
	const k = 10
	slack := 5 * time.Millisecond * k // the service's clock read vs its answer
	for _, name := range []string{"hard-outage", "half-open-relapse", "first-n-failures"} {
		t.Run(name, func(t *testing.T) {
			sc := builtinScenario(t, name)
			_, in, inDir := playAgainst(t, sc, k, nil)
			launched := builtinCommand(t)
			launched.Args = append(launched.Args, "--log-level", "info", "--log-json")
			_, out, outDir := playAgainst(t, sc, k, launched)
			if tg := out.header.Target; tg.Observed != recording.ObservedHealth || tg.Resolution <= 0 || tg.Resolution > 250*time.Millisecond {
				t.Errorf("target %+v: want transitions polled from the health endpoint at 250ms or better", tg)
			}
			if a, b := breakerSequence(in), breakerSequence(out); a != b {
				t.Errorf("transitions differ:\nin process: %s\nlaunched:   %s", a, b)
			}
			if a, b := verdicts(t, sc, inDir), verdicts(t, sc, outDir); a != b {
				t.Errorf("verdicts differ:\nin process: %s\nlaunched:   %s", a, b)
			}
			exact := loggedTransitions(t, outDir, out)
			if len(exact) != len(out.transitions) {
				t.Fatalf("the service logged %d transitions, polling saw %d", len(exact), len(out.transitions))
			}
			widest, apart := time.Duration(0), time.Duration(0)
			for i, tr := range out.transitions {
				e := exact[i].T
				if e < tr.T-tr.Resolution-slack || e > tr.T+slack {
					t.Errorf("transition %d %s→%s seen in (%v, %v]; the service logged it at %v", i, tr.From, tr.To, tr.T-tr.Resolution, tr.T, e)
				}
				widest = max(widest, tr.Resolution)
				if i < len(in.transitions) {
					d := tr.T - in.transitions[i].T
					apart = max(apart, d, -d)
				}
			}
			t.Logf("%d transitions, each within its polled interval (widest %v of scenario time, polling every %v); largest difference from the in-process run %v; requests %d vs %d",
				len(out.transitions), widest, out.header.Target.Resolution, apart, len(in.requests), len(out.requests))
		})
	}
}
