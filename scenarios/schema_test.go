package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/invopop/jsonschema"
	sjs "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite schema.json and the golden files in testdata")

const (
	durationPattern = `^\s*([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+\s*$`
	ratePattern     = `^\s*[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?\s*/\s*[sm]\s*$`
	percentPattern  = `^\s*[0-9]*\.?[0-9]+\s*%\s*$`
	condPattern     = `^\s*(<=|>=|==|!=|<|>)\s*\S.*$`
	keyPattern      = `^\s*[a-z_0-9]+\s*(\{[^{}]*\})?\s*$`
)

func durationSchema() *jsonschema.Schema {
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string", Pattern: durationPattern},
		{Type: "integer", Const: 0},
	}, Description: `A Go duration: "250ms", "90s", "5m", "1m30s"`}
}

func rateSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: ratePattern, Description: `Requests per second or minute: "20/s", "600/m"`}
}

func object(desc string, props ...any) *jsonschema.Schema {
	p := jsonschema.NewProperties()
	for i := 0; i < len(props); i += 2 {
		p.Set(props[i].(string), props[i+1].(*jsonschema.Schema))
	}
	return &jsonschema.Schema{Type: "object", Properties: p, AdditionalProperties: jsonschema.FalseSchema, Description: desc}
}

func enum(values ...string) *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string"}
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// schemaMapper gives the types with a custom YAML form their schema.
func schemaMapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case durationType:
		return durationSchema()
	case rateType:
		return rateSchema()
	case ratioType:
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Type: "number", Minimum: "0", Maximum: "1"},
			{Type: "string", Pattern: percentPattern},
		}, Description: `A fraction in [0,1] or a percentage: 0.95, "95%"`}
	case rateSpecType:
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			rateSchema(),
			object("A load pattern",
				"pattern", enum(patterns...),
				"rate", rateSchema(), "from", rateSchema(), "to", rateSchema(),
				"mean", rateSchema(), "amplitude", rateSchema(), "period", durationSchema()),
		}, Description: `A constant rate ("20/s") or a pattern: {pattern: ramp, from, to} or {pattern: sine, mean, amplitude, period}`}
	case distType:
		d := object("A latency distribution",
			"dist", enum(dists...),
			"value", durationSchema(), "min", durationSchema(), "max", durationSchema(),
			"mean", durationSchema(), "stddev", durationSchema(), "median", durationSchema(),
			"p99", durationSchema(), "cap", durationSchema())
		d.Required = []string{"dist"}
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{durationSchema(), d},
			Description: `A fixed duration ("5ms") or {dist: fixed|uniform|normal|lognormal, ...}`}
	case thresholdsType:
		cond := &jsonschema.Schema{Type: "string", Pattern: condPattern}
		one := uint64(1)
		return &jsonschema.Schema{
			Type:          "object",
			PropertyNames: &jsonschema.Schema{Pattern: keyPattern},
			AdditionalProperties: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
				cond, {Type: "array", MinItems: &one, Items: cond},
			}},
			Description: `metric{filter:value,...}: ["OP VALUE", ...], e.g. "latency_p99{phase:outage}": ["< 100ms"]`,
		}
	}
	return nil
}

// secondForms gives the keys that the decoder also reads in a mapping form
// (see decoder.secondForms) that form beside their type's: a phase's
// duration as a uniform distribution, a fault's rate as a ramp.
func secondForms(s *jsonschema.Schema) {
	if dur, ok := s.Definitions["Phase"].Properties.Get("duration"); ok {
		u := object("A length drawn once per run", "dist", enum(DistUniform), "min", durationSchema(), "max", durationSchema())
		u.Required = []string{"dist", "min", "max"}
		s.Definitions["Phase"].Properties.Set("duration", &jsonschema.Schema{AnyOf: []*jsonschema.Schema{durationSchema(), u}, Description: dur.Description})
	}
	if rate, ok := s.Definitions["Fault"].Properties.Get("rate"); ok {
		ramp := object("A probability that ramps over the phase", "from", schemaMapper(ratioType), "to", schemaMapper(ratioType))
		ramp.Required = []string{"from", "to"}
		s.Definitions["Fault"].Properties.Set("rate", &jsonschema.Schema{AnyOf: []*jsonschema.Schema{schemaMapper(ratioType), ramp}, Description: rate.Description})
	}
}

// generateSchema reflects the Go types, with their doc comments as
// descriptions, into the JSON Schema editors use.
func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		Anonymous:                  true,
		Mapper:                     schemaMapper,
	}
	if err := r.AddGoComments("brownout/scenarios", "."); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&Scenario{})
	secondForms(s)
	s.Title = "brownout scenario"
	s.PatternProperties = map[string]*jsonschema.Schema{"^x-": {Description: "Extension keys are ignored; use them to hold YAML anchors."}}
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestSchemaUpToDate(t *testing.T) {
	got := generateSchema(t)
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("schema.json is out of date with the Go types; run go test ./scenarios -run TestSchemaUpToDate -update")
	}
	if !bytes.Equal(JSONSchema(), want) {
		t.Fatalf("JSONSchema() does not return the embedded schema.json")
	}
}

// compileSchema compiles schema.json with a JSON Schema validator.
func compileSchema(t *testing.T) *sjs.Schema {
	t.Helper()
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := sjs.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// yamlToJSONValue converts a YAML document to the value a JSON Schema
// validator checks.
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sjs.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaAcceptsValidFiles checks the schema against what the parser
// accepts: every built-in, every valid test file and every Marshal output.
func TestSchemaAcceptsValidFiles(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("*.yaml")
	valid, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range append(files, valid...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// A byte-order mark is an editor's artefact, not YAML content;
		// editors strip it before they apply a schema.
		if err := sch.Validate(yamlToJSONValue(t, bytes.TrimPrefix(data, bom))); err != nil {
			t.Errorf("%s: schema rejects a valid file: %v", f, err)
		}
		s, err := Parse(f, data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlToJSONValue(t, out)); err != nil {
			t.Errorf("%s: schema rejects Marshal output: %v", f, err)
		}
	}
}

// TestSchemaRejects checks that the schema catches the mistakes editors
// should underline.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	for _, doc := range []string{
		"phases: [{name: a, duration: 1s}]\nbreaker: {fail_treshold: 5}",
		"phases: [{name: a, duration: 90}]",
		"phases: [{name: a, duration: 1s, faults: [{kind: stauts}]}]",
		"phases: []",
		"load: {rate: 20}\nphases: [{name: a, duration: 1s}]",
		"thresholds: {\"latency_p99\": [\"100ms\"]}\nphases: [{name: a, duration: 1s}]",
		"phases: [{name: a, duration: 1s, faults: [{kind: status, code: 500, rate: 1.5}]}]",
	} {
		if err := sch.Validate(yamlToJSONValue(t, []byte(doc))); err == nil {
			t.Errorf("schema accepts %q", strings.ReplaceAll(doc, "\n", `\n`))
		}
	}
}
