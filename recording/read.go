package recording

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadHeader reads run.json from a run folder and checks its format version.
func ReadHeader(dir string) (*Header, error) {
	b, err := os.ReadFile(filepath.Join(dir, HeaderFile))
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("recording: %s: %w", filepath.Join(dir, HeaderFile), err)
	}
	if h.Format != FormatVersion {
		return nil, fmt.Errorf("recording: %s: format %d, this brownout reads format %d", filepath.Join(dir, HeaderFile), h.Format, FormatVersion)
	}
	return &h, nil
}

// EachRequest calls fn for every request record in the folder, in file
// order, without holding the file in memory. The *Request passed to fn is
// reused for the next line: copy it to keep it.
func EachRequest(dir string, fn func(*Request) error) error {
	d := requestDecoder{in: interner{}}
	var r Request
	return eachLine(filepath.Join(dir, RequestsFile), func(line []byte) error {
		if err := d.decode(line, &r); err != nil {
			return err
		}
		// Older versions of the built-in assistant spelt some reasons
		// differently; read them in today's spelling.
		r.Reason = r.Reason.Canonical()
		return fn(&r)
	})
}

// ReadTransitions returns every breaker transition in the folder; there are
// few of them, so they are returned as a slice.
func ReadTransitions(dir string) ([]Transition, error) {
	var out []Transition
	err := eachLine(filepath.Join(dir, TransitionsFile), func(line []byte) error {
		var t Transition
		if err := json.Unmarshal(line, &t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// EachUpstreamCall calls fn for every upstream call record in the folder.
// The *UpstreamCall passed to fn is reused for the next line: copy it to
// keep it.
func EachUpstreamCall(dir string, fn func(*UpstreamCall) error) error {
	d := callDecoder{in: interner{}}
	var c UpstreamCall
	return eachLine(filepath.Join(dir, UpstreamFile), func(line []byte) error {
		if err := d.decode(line, &c); err != nil {
			return err
		}
		return fn(&c)
	})
}

// eachLine calls fn for each non-empty line; a final line without its
// newline (a run killed mid-write) is skipped rather than misread.
func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("recording: %s:%d: line longer than 1 MiB", path, lineNo)
		}
		if err == io.EOF {
			return nil // a partial last line, if any, is dropped
		}
		if err != nil {
			return fmt.Errorf("recording: %s: %w", path, err)
		}
		if len(line) <= 1 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("recording: %s:%d: %w", path, lineNo, err)
		}
	}
}
