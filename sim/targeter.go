package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/assistant"
	"brownout/contract"
	"brownout/scenarios"
)

// LoadQueries returns the query set named by a scenario's load.queries:
// "builtin" (or empty) for the built-in assistant's sample questions, which
// its embedded corpus answers, or a path to a text file read by
// [scenarios.ReadQueries] (the same rules `brownout validate` applies).
func LoadQueries(spec string) ([]string, error) {
	if spec == "" || spec == scenarios.QueriesBuiltin {
		return assistant.SampleQuestions(), nil
	}
	qs, err := scenarios.ReadQueries(spec)
	if err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	return qs, nil
}

// maxRemembered bounds how many earlier questions the targeter keeps for
// repeats, so memory does not grow with the length of a run.
const maxRemembered = 4096

// questionSource draws the question of each request: with probability
// repeatRatio one asked before (which exercises the assistant's cache),
// otherwise a question never asked in this run. Once the query set is used
// up, new questions get a numbered suffix so they stay distinct to the
// cache. Draws come from a seeded RNG, so a run's question sequence is
// reproducible for a given seed.
type questionSource struct {
	mu          sync.Mutex
	rng         *rand.Rand
	queries     []string
	repeatRatio float64
	next        int
	asked       []string
}

func newQuestionSource(queries []string, repeatRatio float64, seed int64) *questionSource {
	return &questionSource{
		rng:         rand.New(rand.NewPCG(uint64(seed), 0x6272_6f77_6e6f_7574)),
		queries:     queries,
		repeatRatio: repeatRatio,
	}
}

// Next returns the next question.
func (q *questionSource) Next() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.asked) > 0 && q.rng.Float64() < q.repeatRatio {
		return q.asked[q.rng.IntN(len(q.asked))]
	}
	s := q.queries[q.next%len(q.queries)]
	if round := q.next / len(q.queries); round > 0 {
		s = fmt.Sprintf("%s (variant %d)", s, round)
	}
	q.next++
	if len(q.asked) < maxRemembered {
		q.asked = append(q.asked, s)
	} else {
		q.asked[q.rng.IntN(maxRemembered)] = s
	}
	return s
}

// newTargeter returns a vegeta.Targeter that posts questions to the
// query endpoints, one after the other, each with its own X-Request-Id.
func newTargeter(urls []string, src *questionSource, ids *requestIDs) vegeta.Targeter {
	contentType := []string{"application/json"}
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		body, err := json.Marshal(contract.QueryRequest{Question: src.Next()})
		if err != nil {
			return err
		}
		t.Method = "POST"
		t.URL = urls[(next.Add(1)-1)%uint64(len(urls))]
		t.Body = body
		t.Header = http.Header{"Content-Type": contentType, contract.HeaderRequestID: {ids.next()}}
		return nil
	}
}
