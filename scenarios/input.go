package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// MaxFileSize bounds a scenario or thresholds file. The largest built-in
// scenario is about 3 KB; a megabyte leaves room for long descriptions and
// question lists while keeping a hostile or mistaken input (a log file,
// /dev/zero) from being read without end.
const MaxFileSize = 1 << 20

// MaxNesting bounds how deeply a file may nest lists and mappings, counted
// before the YAML library sees it: the library parses recursively, and a
// 200 KB file of 100,000 nested brackets took it 15 GB of memory and 30
// seconds. The scenario format itself needs fewer than ten levels.
const MaxNesting = 100

// bom is the UTF-8 byte-order mark some editors put at the start of a file.
var bom = []byte("\xEF\xBB\xBF")

// ReadFile reads a YAML input of brownout (a scenario, a thresholds file,
// a fake server config): at most MaxFileSize bytes, refusing larger files
// (and endless ones such as /dev/zero) without reading them whole. The
// refusal is an *[ErrorList] that names the file.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &ErrorList{Errors: []*FieldError{tooLarge(path)}}
	}
	return data, nil
}

// tooLarge is the error for a file over MaxFileSize.
func tooLarge(file string) *FieldError {
	return &FieldError{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("the file is larger than %d KiB; a scenario file is a few KB of YAML", MaxFileSize>>10)}
}

// CheckYAML refuses YAML that would make a YAML parser use unbounded time
// or memory (over MaxFileSize, or nested beyond MaxNesting), for inputs
// that another package decodes itself, such as the fake server's config.
// It returns an *[ErrorList] with the position, or nil.
func CheckYAML(file string, data []byte) error {
	fe := checkSize(file, data)
	if fe == nil {
		data = bytes.TrimPrefix(data, bom)
		if fe = checkNesting(file, lexer.Tokenize(string(data))); fe != nil {
			fe.Source = sourceContext(data, fe.Line, fe.Column)
		}
	}
	if fe != nil {
		return &ErrorList{Errors: []*FieldError{fe}}
	}
	return nil
}

// checkSize refuses input over MaxFileSize before anything reads it.
func checkSize(file string, data []byte) *FieldError {
	if len(data) > MaxFileSize {
		return tooLarge(file)
	}
	return nil
}

// checkNesting refuses, before the YAML parser sees them, tokens that nest
// lists and mappings more than MaxNesting deep: the parser recurses once
// per level, and a 200 KB file of 100,000 nested brackets took it 15 GB of
// memory and 30 seconds. The scanner that produced the tokens is
// iterative and knows YAML's quoting, so brackets inside strings do not
// count.
func checkNesting(file string, tokens token.Tokens) *FieldError {
	if tk := nestedBeyond(tokens, MaxNesting); tk != nil {
		line, col := 1, 1
		if tk.Position != nil {
			line, col = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
		return &FieldError{File: file, Line: line, Column: col, Message: fmt.Sprintf("lists and mappings are nested more than %d levels deep here; a scenario needs fewer than ten", MaxNesting)}
	}
	return nil
}

// nestedBeyond returns the first token at which nesting exceeds limit, or
// nil. Flow collections count their brackets; block collections count the
// distinct, increasing columns of their entries ("- ", "? " and the keys
// of "key:"), as the parser opens one level for each.
func nestedBeyond(tokens token.Tokens, limit int) *token.Token {
	var (
		flow    int   // open flow brackets
		indents []int // columns of the open block collections, innermost last
	)
	for _, tk := range tokens {
		col := 0
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType, token.MappingKeyType:
			if flow == 0 && tk.Position != nil {
				col = tk.Position.Column
			}
		case token.MappingValueType:
			if flow == 0 && tk.Prev != nil && tk.Prev.Position != nil {
				col = tk.Prev.Position.Column
			}
		}
		if col > 0 {
			for len(indents) > 0 && indents[len(indents)-1] > col {
				indents = indents[:len(indents)-1]
			}
			if len(indents) == 0 || indents[len(indents)-1] < col {
				indents = append(indents, col)
			}
		}
		if flow+len(indents) > limit {
			return tk
		}
	}
	return nil
}
