package assistant

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed corpus/*.md
var embeddedCorpus embed.FS

//go:embed corpus/questions.txt
var sampleQuestions string

// SampleQuestions returns questions that the embedded corpus answers, one
// per entry, in a fixed order: a ready-made query set for load tests.
func SampleQuestions() []string {
	var qs []string
	sc := bufio.NewScanner(strings.NewReader(sampleQuestions))
	for sc.Scan() {
		if q := strings.TrimSpace(sc.Text()); q != "" && !strings.HasPrefix(q, "#") {
			qs = append(qs, q)
		}
	}
	return qs
}

// BM25 parameters (the usual ones).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// chunkTarget is the length a chunk grows to before a new one starts; a
// single longer paragraph is split at a word boundary near chunkMax.
const (
	chunkTarget = 500
	chunkMax    = 800
)

// chunk is one retrievable piece of a document.
type chunk struct {
	ID    string // "<document>#<n>", n from 1
	Title string // "<document title> — <section>"
	Text  string // white space collapsed
}

// index is a BM25 index over chunks. It is immutable once built and safe
// for concurrent searches.
type index struct {
	chunks   []chunk
	terms    map[string]int32
	postings [][]posting // by term id, in chunk order
}

// posting is one chunk containing a term, with the term's whole BM25
// contribution precomputed: a search only adds these up.
type posting struct {
	chunk  int32
	weight float64
}

// hit is one search result.
type hit struct {
	chunk int
	score float64
}

var (
	embeddedOnce  sync.Once
	embeddedIndex *index
	embeddedErr   error
)

// loadIndex returns the index of the embedded corpus (built once per
// process and shared) or of the Markdown files under dir.
func loadIndex(dir string) (*index, error) {
	if dir == "" {
		embeddedOnce.Do(func() {
			sub, err := fs.Sub(embeddedCorpus, "corpus")
			if err != nil {
				embeddedErr = err
				return
			}
			embeddedIndex, embeddedErr = buildIndexFS(sub)
		})
		return embeddedIndex, embeddedErr
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("corpus: %s is not a folder", dir)
	}
	return buildIndexFS(os.DirFS(dir))
}

// buildIndexFS chunks every *.md file of fsys (recursively, in path order)
// and indexes the chunks.
func buildIndexFS(fsys fs.FS) (*index, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(path.Ext(p), ".md") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(paths) == 0 {
		return nil, errors.New("corpus: no Markdown (.md) files found")
	}
	sort.Strings(paths)
	var chunks []chunk
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("corpus: %s is not valid UTF-8", p)
		}
		chunks = append(chunks, chunkMarkdown(strings.TrimSuffix(p, path.Ext(p)), string(data))...)
	}
	if len(chunks) == 0 {
		return nil, errors.New("corpus: the Markdown files hold no text")
	}
	return buildIndex(chunks), nil
}

// chunkMarkdown splits a document into chunks: at every "## " heading, and
// within a section at paragraph boundaries once a chunk reaches chunkTarget
// characters. The document title is its "# " heading, or its name.
func chunkMarkdown(name, doc string) []chunk {
	title := name
	type section struct {
		heading string
		paras   []string
	}
	var (
		chunks   []chunk
		heading  string   // of the current section
		paras    []string // paragraphs of the current section
		cur      []string // lines of the current paragraph
		sections []section
	)
	endPara := func() {
		if len(cur) > 0 {
			paras = append(paras, collapseSpace(strings.Join(cur, " ")))
			cur = cur[:0]
		}
	}
	endSection := func() {
		endPara()
		if len(paras) > 0 {
			sections = append(sections, section{heading, paras})
		}
		paras = nil
	}
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "# "):
			endSection()
			title = strings.TrimSpace(t[2:])
			heading = ""
		case strings.HasPrefix(t, "## "):
			endSection()
			heading = strings.TrimSpace(t[3:])
		case t == "":
			endPara()
		default:
			cur = append(cur, t)
		}
	}
	endSection()

	n := 0
	emit := func(heading, text string) {
		n++
		ct := title
		if heading != "" {
			ct += " — " + heading
		}
		chunks = append(chunks, chunk{ID: fmt.Sprintf("%s#%d", name, n), Title: ct, Text: text})
	}
	for _, s := range sections {
		var b strings.Builder
		for _, p := range s.paras {
			for utf8.RuneCountInString(p) > chunkMax {
				head, tail := splitAtWord(p, chunkTarget)
				if b.Len() > 0 {
					emit(s.heading, b.String())
					b.Reset()
				}
				emit(s.heading, head)
				p = tail
			}
			if b.Len() > 0 && utf8.RuneCountInString(b.String())+1+utf8.RuneCountInString(p) > chunkMax {
				emit(s.heading, b.String())
				b.Reset()
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(p)
			if utf8.RuneCountInString(b.String()) >= chunkTarget {
				emit(s.heading, b.String())
				b.Reset()
			}
		}
		if b.Len() > 0 {
			emit(s.heading, b.String())
		}
	}
	return chunks
}

// splitAtWord cuts s after about n characters, at the last space before
// that point when there is one.
func splitAtWord(s string, n int) (head, tail string) {
	i := prefixLen(s, n)
	if j := strings.LastIndexByte(s[:i], ' '); j > 0 {
		return s[:j], strings.TrimSpace(s[j+1:])
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// prefixLen returns the length in bytes of the first n characters of s, or
// of all of s when it is shorter.
func prefixLen(s string, n int) int {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// buildIndex computes every posting's BM25 weight.
func buildIndex(chunks []chunk) *index {
	ix := &index{chunks: chunks, terms: make(map[string]int32)}
	type tf struct {
		term  int32
		count int
	}
	docTerms := make([][]tf, len(chunks))
	lengths := make([]int, len(chunks))
	total := 0
	for i, c := range chunks {
		counts := make(map[int32]int)
		var order []int32
		tokenize(c.Title+" "+c.Text, func(tok []byte) {
			id, ok := ix.terms[string(tok)]
			if !ok {
				id = int32(len(ix.terms))
				ix.terms[string(tok)] = id
			}
			if counts[id] == 0 {
				order = append(order, id)
			}
			counts[id]++
			lengths[i]++
		})
		total += lengths[i]
		for _, id := range order {
			docTerms[i] = append(docTerms[i], tf{id, counts[id]})
		}
	}
	ix.postings = make([][]posting, len(ix.terms))
	df := make([]int, len(ix.terms))
	for _, ts := range docTerms {
		for _, t := range ts {
			df[t.term]++
		}
	}
	avg := 1.0
	if len(chunks) > 0 && total > 0 {
		avg = float64(total) / float64(len(chunks))
	}
	n := float64(len(chunks))
	for i, ts := range docTerms {
		norm := bm25K1 * (1 - bm25B + bm25B*float64(lengths[i])/avg)
		for _, t := range ts {
			d := float64(df[t.term])
			idf := math.Log(1 + (n-d+0.5)/(d+0.5))
			f := float64(t.count)
			ix.postings[t.term] = append(ix.postings[t.term], posting{
				chunk:  int32(i),
				weight: idf * f * (bm25K1 + 1) / (f + norm),
			})
		}
	}
	return ix
}

// searchState is the per-search scratch space, pooled.
type searchState struct {
	scores  []float64
	touched []int32
	terms   []int32
}

var searchPool sync.Pool

// search returns up to k chunks for q, best first; equal scores keep corpus
// order, so results are deterministic. Each distinct query term counts once.
func (ix *index) search(q string, k int, dst []hit) []hit {
	dst = dst[:0]
	if k <= 0 || len(ix.chunks) == 0 {
		return dst
	}
	st, _ := searchPool.Get().(*searchState)
	if st == nil || len(st.scores) != len(ix.chunks) {
		st = &searchState{scores: make([]float64, len(ix.chunks))}
	}
	st.terms = st.terms[:0]
	tokenize(q, func(tok []byte) {
		id, ok := ix.terms[string(tok)]
		if !ok {
			return
		}
		for _, seen := range st.terms {
			if seen == id {
				return
			}
		}
		st.terms = append(st.terms, id)
	})
	st.touched = st.touched[:0]
	for _, id := range st.terms {
		for _, p := range ix.postings[id] {
			if st.scores[p.chunk] == 0 {
				st.touched = append(st.touched, p.chunk)
			}
			st.scores[p.chunk] += p.weight
		}
	}
	// Keep the best k in dst by insertion: k is small.
	for _, c := range st.touched {
		h := hit{chunk: int(c), score: st.scores[c]}
		st.scores[c] = 0
		if len(dst) == k && !better(h, dst[k-1]) {
			continue
		}
		if len(dst) < k {
			dst = append(dst, h)
		} else {
			dst[k-1] = h
		}
		for i := len(dst) - 1; i > 0 && better(dst[i], dst[i-1]); i-- {
			dst[i], dst[i-1] = dst[i-1], dst[i]
		}
	}
	searchPool.Put(st)
	return dst
}

func better(a, b hit) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.chunk < b.chunk
}

// stopwords are dropped from documents and questions alike.
var stopwords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be
		because been before being below between both but by can could did do does doing down during each
		few for from further had has have having he her here hers him his how i if in into is it its itself
		just me more most my no nor not now of off on once only or other our ours out over own same she
		should so some such than that the their theirs them then there these they this those through to
		too under until up very was we were what when where which while who whom why will with would you
		your yours`) {
		m[w] = struct{}{}
	}
	return m
}()

// tokenize calls fn with every indexable term of s: maximal runs of letters
// and digits, lower-cased, stop words dropped, with a light plural
// stemming ("retries" → "retry", "breakers" → "breaker"). The slice passed
// to fn is reused after fn returns.
func tokenize(s string, fn func(tok []byte)) {
	var buf [64]byte
	tok := buf[:0]
	flush := func() {
		if len(tok) >= 2 {
			t := stem(tok)
			if _, stop := stopwords[string(t)]; !stop {
				fn(t)
			}
		}
		tok = buf[:0]
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				tok = append(tok, c)
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
			default:
				flush()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			tok = utf8.AppendRune(tok, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
}

func stem(t []byte) []byte {
	n := len(t)
	switch {
	case n > 4 && string(t[n-3:]) == "ies":
		t = append(t[:n-3], 'y')
	case n > 4 && string(t[n-4:]) == "sses":
		t = t[:n-2]
	case n > 3 && t[n-1] == 's' && t[n-2] != 's' && t[n-2] != 'u' && t[n-2] != 'i':
		t = t[:n-1]
	}
	return t
}

// excerpt returns the first n characters of s, cut at a word boundary when
// one is close, with "…" marking a cut; the result is at most n characters.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := s[:prefixLen(s, n-1)]
	if j := strings.LastIndexByte(cut, ' '); j > len(cut)*3/4 {
		cut = cut[:j]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}
