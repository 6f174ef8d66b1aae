package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// builtinFS holds the built-in scenario library and the schema it names.
//
//go:embed *.yaml schema.json
var builtinFS embed.FS

// Load reads and parses the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data)
}

// LoadThresholds reads and parses a thresholds file (see [ParseThresholds]),
// bounded like a scenario file.
func LoadThresholds(path string) ([]Threshold, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load thresholds: %w", err)
	}
	return ParseThresholds(path, data)
}

// builtinNames returns the names of the built-in scenarios, sorted.
func builtinNames() []string {
	entries, err := fs.Glob(builtinFS, "*.yaml")
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e, ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Builtin parses the built-in scenario called name (see [Builtins]).
func Builtin(name string) (*Scenario, error) {
	names := builtinNames()
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("unknown built-in scenario %q%s (built-ins: %s)", name, didYouMean(name, names), quoteList(names))
	}
	data, err := builtinFS.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %q: %w", name, err)
	}
	return Parse(path.Join("scenarios", name+".yaml"), data)
}

// BuiltinSource returns the YAML text of the built-in scenario called name,
// comments included, for users who want a starting point for their own.
func BuiltinSource(name string) ([]byte, error) {
	if !slices.Contains(builtinNames(), name) {
		return nil, fmt.Errorf("unknown built-in scenario %q", name)
	}
	return builtinFS.ReadFile(name + ".yaml")
}

// Builtins lists the built-in scenarios sorted by name, each with the first
// line of its description.
func Builtins() []Info {
	var out []Info
	for _, name := range builtinNames() {
		info := Info{Name: name}
		if s, err := Builtin(name); err != nil {
			info.Description = "(invalid: " + err.Error() + ")"
		} else {
			info.Description = firstLine(s.Description)
		}
		out = append(out, info)
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// JSONSchema returns the JSON Schema of the scenario format (the contents
// of scenarios/schema.json), for editors and for tools that check files.
func JSONSchema() []byte {
	data, err := builtinFS.ReadFile("schema.json")
	if err != nil {
		return nil
	}
	return data
}

// Open resolves a scenario argument: an existing file is loaded, anything
// else is taken as a built-in name. An unknown name gets an error that
// lists the built-ins and suggests the closest.
func Open(nameOrPath string) (*Scenario, error) {
	fi, err := os.Stat(nameOrPath)
	if err == nil && !fi.IsDir() {
		return Load(nameOrPath)
	}
	if err == nil && fi.IsDir() {
		return nil, fmt.Errorf("open scenario: %s is a directory", nameOrPath)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open scenario: %w", err)
	}
	names := builtinNames()
	if slices.Contains(names, nameOrPath) {
		return Builtin(nameOrPath)
	}
	if strings.ContainsAny(nameOrPath, `/\`) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return nil, fmt.Errorf("open scenario: no such file %s", nameOrPath)
	}
	return nil, fmt.Errorf("scenario %q is neither a file nor a built-in%s (built-ins: %s)", nameOrPath, didYouMean(nameOrPath, names), quoteList(names))
}
