package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// contextLines is how many lines before the offending one a syntax error
// quotes.
const contextLines = 2

// syntaxError turns the YAML library's error into a FieldError at the
// offending line, quoting the source around it with a caret.
func syntaxError(file string, data []byte, err error) *FieldError {
	fe := &FieldError{File: file, Line: 1, Column: 1, Message: "invalid YAML: " + err.Error()}
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		fe.Message = "invalid YAML: " + yerr.GetMessage()
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line > 0 {
			fe.Line, fe.Column = tk.Position.Line, max(tk.Position.Column, 1)
			if line, col, key, ok := overIndentedKey(tk); ok {
				fe.Line, fe.Column = line, col
				fe.Message = fmt.Sprintf("invalid YAML: key %q is indented more than the key above it; align it with its siblings (or, for a value, put it on the line of its key)", key)
			}
		}
	}
	fe.Source = sourceContext(data, fe.Line, fe.Column)
	return fe
}

// overIndentedKey recognizes the library's "mapping value is not allowed"
// error on a key indented deeper than its siblings. The library reads such
// a key as the continuation of the value above it (a plain scalar that
// spans lines) and reports that value's position; the mistake is on the
// line of the colon that follows, where the key starts.
func overIndentedKey(tk *token.Token) (line, col int, key string, ok bool) {
	next := tk.Next
	if next == nil || next.Type != token.MappingValueType || next.Position == nil {
		return 0, 0, "", false
	}
	if !strings.Contains(tk.Origin, "\n") || next.Position.Line <= tk.Position.Line {
		return 0, 0, "", false
	}
	last := tk.Origin[strings.LastIndexByte(tk.Origin, '\n')+1:]
	key = strings.TrimSpace(last)
	col = len(last) - len(strings.TrimLeft(last, " \t")) + 1
	return next.Position.Line, col, key, true
}

// sourceContext quotes the lines of data up to line, the last marked with
// '>', and a caret under column, as compilers do:
//
//	   2 | breaker:
//	   3 |   enabled: true
//	>  4 |     policy: ratio
//	     |     ^
func sourceContext(data []byte, line, col int) string {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return ""
	}
	var b strings.Builder
	width := len(fmt.Sprint(line))
	for n := max(line-contextLines, 1); n <= line; n++ {
		text := strings.TrimRight(string(lines[n-1]), "\r")
		if len(text) > 160 {
			text = text[:160] + "…"
		}
		mark := " "
		if n == line {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %*d | %s\n", mark, width, n, text)
	}
	fmt.Fprintf(&b, "  %*s | %s^", width, "", strings.Repeat(" ", min(max(col-1, 0), 160)))
	return b.String()
}
