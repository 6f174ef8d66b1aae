package assistant

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"brownout/contract"
	"brownout/limits"
)

func TestBM25WorkedExample(t *testing.T) {
	t.Parallel()
	// Three chunks without titles, lengths 2, 3 and 1 (average 2).
	ix := buildIndex([]chunk{
		{ID: "a", Text: "apple banana"},
		{ID: "b", Text: "apple apple cherry"},
		{ID: "c", Text: "banana"},
	})
	// Worked by hand with k1 = 1.2, b = 0.75:
	// "apple": df 2, idf = ln(1 + (3-2+0.5)/(2+0.5)) = ln 1.6 = 0.4700036
	//   a: tf 1, norm = 1.2·(0.25 + 0.75·2/2) = 1.2  → 1·2.2/(1+1.2) = 1        → 0.4700036
	//   b: tf 2, norm = 1.2·(0.25 + 0.75·3/2) = 1.65 → 2·2.2/(2+1.65) = 1.2054795 → 0.5665797
	// "cherry": df 1, idf = ln(1 + 2.5/1.5) = ln 2.6666667 = 0.9808293
	//   b: tf 1 → 2.2/(1+1.65) = 0.8301887 → 0.8142734
	for _, tc := range []struct {
		q    string
		want []hit
	}{
		{"apple", []hit{{1, 0.5665797}, {0, 0.4700036}}},
		{"cherry apple", []hit{{1, 0.5665797 + 0.8142734}, {0, 0.4700036}}},
		{"apple apple APPLES", []hit{{1, 0.5665797}, {0, 0.4700036}}}, // a term counts once
		{"durian", nil},
		{"the of and", nil}, // stop words only
	} {
		got := ix.search(tc.q, 5, nil)
		if len(got) != len(tc.want) {
			t.Fatalf("%q: got %v, want %v", tc.q, got, tc.want)
		}
		for i := range got {
			if got[i].chunk != tc.want[i].chunk || math.Abs(got[i].score-tc.want[i].score) > 1e-6 {
				t.Errorf("%q: hit %d = %+v, want %+v", tc.q, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSearchTiesKeepCorpusOrderAndK(t *testing.T) {
	t.Parallel()
	var chunks []chunk
	for i := range 8 {
		chunks = append(chunks, chunk{ID: string(rune('a' + i)), Text: "same words here"})
	}
	ix := buildIndex(chunks)
	got := ix.search("words", 3, nil)
	if len(got) != 3 || got[0].chunk != 0 || got[1].chunk != 1 || got[2].chunk != 2 {
		t.Errorf("ties: got %v, want chunks 0, 1, 2", got)
	}
	if got := ix.search("words", 0, nil); len(got) != 0 {
		t.Errorf("k 0: got %v", got)
	}
}

func TestSearchDeterministic(t *testing.T) {
	t.Parallel()
	a, err := buildIndexFS(mustSub(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadIndex("")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range SampleQuestions() {
		x, y := a.search(q, 5, nil), b.search(q, 5, nil)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%q: two indexes disagree: %v vs %v", q, x, y)
		}
		if z := b.search(q, 5, nil); !reflect.DeepEqual(y, z) {
			t.Errorf("%q: two searches disagree: %v vs %v", q, y, z)
		}
	}
}

func mustSub(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	entries, err := embeddedCorpus.ReadDir("corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := embeddedCorpus.ReadFile("corpus/" + e.Name())
		m[e.Name()] = &fstest.MapFile{Data: data}
	}
	return m
}

func TestEmbeddedCorpus(t *testing.T) {
	t.Parallel()
	ix, err := loadIndex("")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]bool{}
	for _, c := range ix.chunks {
		docs[strings.SplitN(c.ID, "#", 2)[0]] = true
		if n := utf8.RuneCountInString(c.Text); n == 0 || n > chunkMax {
			t.Errorf("chunk %s has %d characters", c.ID, n)
		}
	}
	if len(docs) < 24 {
		t.Errorf("%d documents, want a few dozen", len(docs))
	}
	qs := SampleQuestions()
	if len(qs) < 30 {
		t.Errorf("%d sample questions", len(qs))
	}
	for _, q := range qs {
		if len(ix.search(q, 3, nil)) == 0 {
			t.Errorf("sample question %q retrieves nothing", q)
		}
	}
	// The top hit is on topic.
	for q, doc := range map[string]string{
		"What is a circuit breaker?":                                    "circuit-breaker",
		"What happens in the half-open state?":                          "half-open-state",
		"Why add jitter to retries?":                                    "jitter",
		"What is the difference between liveness and readiness checks?": "health-checks",
		"How does BM25 rank documents?":                                 "bm25",
		"What is a brownout?":                                           "brownouts",
	} {
		got := ix.search(q, 1, nil)
		if len(got) != 1 || !strings.HasPrefix(ix.chunks[got[0].chunk].ID, doc+"#") {
			t.Errorf("%q: top hit %v, want from %s", q, got, doc)
		}
	}
	if len(ix.search(offTopic, 5, nil)) != 0 {
		t.Errorf("%q should retrieve nothing", offTopic)
	}
}

func TestChunkMarkdown(t *testing.T) {
	t.Parallel()
	long := strings.TrimSpace(strings.Repeat("word ", 400)) // 1,999 characters
	doc := "# Title Here\n\nIntro line one\nline two.\n\n## First\n\nPara A.\n\nPara B.\n\n## Second\n\n" + long + "\n"
	got := chunkMarkdown("doc", doc)
	if len(got) < 5 {
		t.Fatalf("got %d chunks: %+v", len(got), got)
	}
	want := []chunk{
		{ID: "doc#1", Title: "Title Here", Text: "Intro line one line two."},
		{ID: "doc#2", Title: "Title Here — First", Text: "Para A. Para B."},
	}
	if !reflect.DeepEqual(got[:2], want) {
		t.Errorf("first chunks = %+v, want %+v", got[:2], want)
	}
	var rebuilt []string
	for i, c := range got[2:] {
		if c.Title != "Title Here — Second" || c.ID != "doc#"+string(rune('3'+i)) {
			t.Errorf("chunk %d = %s %q", i+2, c.ID, c.Title)
		}
		if n := utf8.RuneCountInString(c.Text); n > chunkMax {
			t.Errorf("chunk %s has %d characters, more than %d", c.ID, n, chunkMax)
		}
		rebuilt = append(rebuilt, c.Text)
	}
	if strings.Join(rebuilt, " ") != long {
		t.Error("splitting a long paragraph lost or changed text")
	}
	if got := chunkMarkdown("untitled", "Just text."); len(got) != 1 || got[0].Title != "untitled" {
		t.Errorf("no heading: %+v", got)
	}
}

func TestCorpusFromFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("zebra.md", "# Zebras\n\nZebras have stripes and live in Africa.\n")
	write("sub/okapi.md", "# Okapis\n\nThe okapi is related to the giraffe and has stripes on its legs.\n")
	write("notes.txt", "ignored: stripes stripes stripes")
	cfg := testConfig()
	cfg.CorpusDir = dir
	up := &upstream{}
	up.set(500, `{"error":"down"}`)
	s := newTestService(t, cfg, up)
	a := answerOf(t, ask(t, s, "Which animals have stripes?"))
	if a.Metadata.FallbackSource != contract.SourceExcerpts || len(a.Sources) != 2 {
		t.Fatalf("answer = %+v", a)
	}
	if a.Sources[0].ID != "zebra#1" || a.Sources[1].ID != "sub/okapi#1" {
		t.Errorf("sources = %+v", a.Sources)
	}

	for name, d := range map[string]string{"empty folder": t.TempDir(), "missing": filepath.Join(dir, "nope"), "a file": filepath.Join(dir, "zebra.md")} {
		cfg.CorpusDir = d
		if _, err := New(cfg, WithLogger(discardLogger())); err == nil || !strings.Contains(err.Error(), "corpus") {
			t.Errorf("%s: err = %v, want a corpus error", name, err)
		}
	}
}

func TestTokenize(t *testing.T) {
	t.Parallel()
	var got []string
	tokenize("The Circuit-Breakers' RETRIES, half-open: 429s & Ünïcode 5xx a", func(b []byte) { got = append(got, string(b)) })
	want := []string{"circuit", "breaker", "retry", "half", "open", "429", "ünïcode", "5xx"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short text", 200, "short text"},
		{"exactly ten", 11, "exactly ten"},
		{"one two three four five six", 20, "one two three four…"},
		{"abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"},
		{"ééééé ééééé ééééé", 8, "ééééé…"},
	} {
		got := excerpt(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if utf8.RuneCountInString(got) > tc.n {
			t.Errorf("excerpt(%q, %d) is longer than %d", tc.in, tc.n, tc.n)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	ix, err := loadIndex("")
	if err != nil {
		b.Fatal(err)
	}
	qs := SampleQuestions()
	var buf [limits.MaxTopK]hit
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ix.search(qs[i%len(qs)], 5, buf[:0])
	}
}
