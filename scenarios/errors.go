package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem in a scenario: where it is (file, line and
// column, 1-based; zero when the value did not come from a file), which
// field (a path such as phases[1].faults[0].rate), and what is wrong,
// including what was found and what is valid.
type FieldError struct {
	File    string
	Line    int
	Column  int
	Path    string
	Message string
	// Source quotes the lines around the position with a caret under the
	// column, for errors (such as YAML syntax errors) whose cause is easier
	// to see than to describe; empty otherwise.
	Source string
}

// Error formats the problem as "file:line:column: path: message", the form
// editors and CI logs link to, followed by the quoted source lines when
// there are any.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Source != "" {
		b.WriteByte('\n')
		b.WriteString(e.Source)
	}
	return b.String()
}

// ErrorList is every problem found in one scenario or thresholds file, in
// order of position. Parse reports all of them at once so that a user fixes
// a file in one pass.
type ErrorList struct {
	Errors []*FieldError
}

// Error lists the problems one per line.
func (l *ErrorList) Error() string {
	lines := make([]string, len(l.Errors))
	for i, e := range l.Errors {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *FieldError to errors.As.
func (l *ErrorList) Unwrap() []error {
	errs := make([]error, len(l.Errors))
	for i, e := range l.Errors {
		errs[i] = e
	}
	return errs
}

// add records a problem.
func (l *ErrorList) add(e *FieldError) { l.Errors = append(l.Errors, e) }

// sort orders the problems by position, then path, keeping equal ones in
// the order they were found, and drops exact duplicates.
func (l *ErrorList) sort() {
	slices.SortStableFunc(l.Errors, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	l.Errors = slices.CompactFunc(l.Errors, func(a, b *FieldError) bool { return *a == *b })
}

// err returns l as an error, or nil when it holds no problem.
func (l *ErrorList) err() error {
	if len(l.Errors) == 0 {
		return nil
	}
	l.sort()
	return l
}
