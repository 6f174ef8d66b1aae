package sim

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"brownout/contract"
	"brownout/recording"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Time compression divides every simulated wait by K: the fake upstream's
// delays and the breaker's, assistant's and client's timeouts. The
// assistant's own work (retrieval, the cache, building an answer, HTTP) is
// not simulated and takes the same real time at any K. So a request's
// latency in scenario time is its real latency plus (K − 1) times the part
// of it spent waiting on something simulated; multiplying the whole real
// latency by K would inflate the local work K times.

// scenarioLatency converts a request's real latency into scenario time,
// given how much of it was spent waiting on something simulated.
func scenarioLatency(real, simulated time.Duration, k float64) time.Duration {
	simulated = min(max(simulated, 0), real)
	return real + time.Duration((k-1)*float64(simulated))
}

// waitLedger adds up, per load request id, the real time the assistant
// spent waiting on its upstream calls. The stamp transport books each call
// as it ends, which is before the assistant answers the load request, so
// the run loop finds the full sum when the answer arrives.
type waitLedger struct {
	mu sync.Mutex
	m  map[string]time.Duration
}

func newWaitLedger() *waitLedger { return &waitLedger{m: make(map[string]time.Duration)} }

// add books d against the load request id.
func (l *waitLedger) add(id string, d time.Duration) {
	if id == "" {
		return
	}
	l.mu.Lock()
	l.m[id] += d
	l.mu.Unlock()
}

// pending is how many ids have time booked that no answer took: ids the
// run never issued, or requests that got no answer.
func (l *waitLedger) pending() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.m))
}

// take returns and forgets the time booked against id.
func (l *waitLedger) take(id string) time.Duration {
	if id == "" {
		return 0
	}
	l.mu.Lock()
	d, ok := l.m[id]
	if ok {
		delete(l.m, id)
	}
	l.mu.Unlock()
	return d
}

// timedBody calls done once, when the body is closed: the end of an
// upstream call's wait, since the assistant reads the body to its end
// before closing it. eof says the whole body was read.
type timedBody struct {
	io.ReadCloser
	once sync.Once
	eof  bool
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// requestIDs numbers load requests: each gets an X-Request-Id that the
// assistant forwards on its upstream calls, which is how a request's
// upstream waits are found.
type requestIDs struct{ n atomic.Uint64 }

func (g *requestIDs) next() string {
	var buf [16]byte
	b := append(buf[:0], 'q')
	return string(appendBase36(b, g.n.Add(1)))
}

// appendBase36 appends n in base 36, as strconv.FormatUint would.
func appendBase36(b []byte, n uint64) []byte {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var tmp [13]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[n%36]
		n /= 36
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// echoIDTransport copies each load request's X-Request-Id onto its
// response, where vegeta keeps it in Result.Headers, so the run loop can
// tell which request a result belongs to whether or not the target echoes
// the header itself.
type echoIDTransport struct{ next http.RoundTripper }

func (t echoIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if id := req.Header[contract.HeaderRequestID]; id != nil {
		if resp.Header == nil {
			resp.Header = make(http.Header)
		}
		resp.Header[contract.HeaderRequestID] = id
	}
	return resp, nil
}

// resultID returns the load request id of a vegeta result, "" when the
// request got no answer.
func resultID(res *vegeta.Result) string {
	if v := res.Headers[contract.HeaderRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// clientTimedOut reports whether a result is the load client giving up:
// all of its latency was a simulated wait (the client's timeout).
func clientTimedOut(res *vegeta.Result) bool {
	return res.Code == 0 && (strings.Contains(res.Error, "Client.Timeout exceeded") ||
		strings.Contains(res.Error, "context deadline exceeded"))
}

// simulatedWait is the part of a result's real latency spent waiting on
// something simulated: its upstream calls as booked in the ledger, or, when
// the client gave up, its timeout (the time the client's timer fired late
// is the machine's, not the scenario's).
func simulatedWait(res *vegeta.Result, waits *waitLedger, clientTimeout time.Duration) time.Duration {
	w := waits.take(resultID(res))
	if clientTimedOut(res) {
		return min(res.Latency, clientTimeout)
	}
	return w
}

// realLatency is the real latency as recorded: zero at time scale 1, where
// it would only repeat the latency.
func realLatency(real time.Duration, k float64) time.Duration {
	if k == 1 {
		return 0
	}
	return real
}

// noteUncorrected counts, for an external target at a time scale other
// than 1, the upstream calls whose wait could not be joined to a load
// request, and says so: those requests' latencies were not corrected for
// the compression (see docs/running.md).
func (p *play) noteUncorrected(d *recording.Distortion) {
	if !p.external || p.k == 1 {
		return
	}
	d.UncorrectedCalls = p.noID.Load() + p.waits.pending()
	if d.UncorrectedCalls > 0 {
		p.warnings = append(p.warnings, fmt.Sprintf("%d upstream calls named no load request (the service does not forward %s): "+
			"their waits could not be scaled by the time scale %g, so those requests' latencies are not corrected and latency thresholds are not judged; forward the header, or run at time scale 1",
			d.UncorrectedCalls, contract.HeaderRequestID, p.k))
	}
}
