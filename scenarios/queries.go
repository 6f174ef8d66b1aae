package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// ReadQueries reads a question file named by load.queries: one question
// per line, blank lines and lines starting with # skipped. The path is
// taken as given (relative to the working directory, as `brownout run`
// opens it). Only a regular file of at most MaxFileSize bytes holding at
// least one question is accepted, so that a missing file, a directory, a
// device such as /dev/zero or a FIFO is refused by `brownout validate`
// rather than by the run.
func ReadQueries(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the question file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; want a text file with one question per line", path)
	}
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxFileSize)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		qs = append(qs, line)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s holds no question; want one question per line", path)
	}
	return qs, nil
}
