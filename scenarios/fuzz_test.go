package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and either returns a scenario
// that passes Validate and survives a Marshal round trip, or an
// *ErrorList whose every error has a position.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"*.yaml", "testdata/valid/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("phases: [{name: a, duration: 1s, faults: [&a {kind: reset}, *a]}]"))
	f.Add([]byte("x-a: &a {name: a, duration: 1s}\nphases: [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) == 0 {
				t.Fatalf("error is not a non-empty *ErrorList: %T %v", err, err)
			}
			for _, fe := range list.Errors {
				if fe.File != "fuzz.yaml" || fe.Line < 1 || fe.Column < 1 {
					t.Fatalf("error without a position: %#v", fe)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted a scenario that Validate rejects: %v\n%s", err, data)
		}
		roundTrip(t, s)
	})
}
