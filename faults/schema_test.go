package faults

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specSchemas compiles component schemas of TGI's OpenAPI spec (copied
// from ../shared/tgi-openapi.json into testdata). OpenAPI 3.0's
// "nullable: true" is not JSON Schema, so it is rewritten as
// anyOf [{type: null}, schema] before compiling.
var specSchemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	f, err := os.Open("testdata/tgi-openapi.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	doc = rewriteNullable(doc)
	c := jsonschema.NewCompiler()
	const url = "file:///tgi-openapi.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"ChatCompletion", "ChatCompletionChunk", "GenerateResponse", "ErrorResponse",
		"StreamResponse", "CompletionFinal", "Chunk", "Info"} {
		sch, err := c.Compile(url + "#/components/schemas/" + name)
		if err != nil {
			return nil, err
		}
		out[name] = sch
	}
	return out, nil
})

func rewriteNullable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = rewriteNullable(e)
		}
		if n, ok := v["nullable"].(bool); ok && n {
			delete(v, "nullable")
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, v}}
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = rewriteNullable(e)
		}
	}
	return v
}

func validate(t *testing.T, schema string, doc []byte) {
	t.Helper()
	schemas, err := specSchemas()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", schema, err, doc)
	}
	if err := schemas[schema].Validate(inst); err != nil {
		t.Errorf("%s: %v\n%s", schema, err, doc)
	}
}

// TestResponseShapes validates every answer the fake gives against TGI's
// published schemas.
func TestResponseShapes(t *testing.T) {
	s := newServer(t, Config{Seed: 3, Phases: []Phase{{Name: "p", Tokens: 5}}})
	do := func(path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(rec, req)
		return rec
	}
	events := func(rec *httptest.ResponseRecorder) []string { return sseEvents(t, rec.Body.Bytes()) }

	t.Run("ChatCompletion", func(t *testing.T) {
		for _, body := range []string{chatBody, `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`} {
			rec := do("/v1/chat/completions", body)
			validate(t, "ChatCompletion", rec.Body.Bytes())
			var cc struct {
				Object string
				Usage  struct{ PromptTokens, CompletionTokens, TotalTokens int }
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &cc)
			if cc.Object != "chat.completion" {
				t.Errorf("object = %q", cc.Object)
			}
		}
	})
	t.Run("ChatCompletionChunk", func(t *testing.T) {
		ev := events(do("/v1/chat/completions", chatStreamBody))
		if len(ev) < 3 || ev[len(ev)-1] != "[DONE]" {
			t.Fatalf("events = %q", ev)
		}
		for _, e := range ev[:len(ev)-1] {
			validate(t, "ChatCompletionChunk", []byte(e))
		}
	})
	t.Run("CompletionFinal", func(t *testing.T) {
		validate(t, "CompletionFinal", do("/v1/completions", `{"prompt":"hi","max_tokens":3}`).Body.Bytes())
		ev := events(do("/v1/completions", `{"prompt":["a","b"],"stream":true}`))
		for _, e := range ev[:len(ev)-1] {
			validate(t, "Chunk", []byte(e))
		}
	})
	t.Run("GenerateResponse", func(t *testing.T) {
		validate(t, "GenerateResponse", do("/generate", `{"inputs":"hi","parameters":{"max_new_tokens":4}}`).Body.Bytes())
		validate(t, "GenerateResponse", do("/generate", `{"inputs":"hi","parameters":{"details":false}}`).Body.Bytes())
		var arr []json.RawMessage
		if err := json.Unmarshal(do("/", `{"inputs":"hi"}`).Body.Bytes(), &arr); err != nil || len(arr) != 1 {
			t.Fatalf("compat answer is not a one-element array: %v", err)
		}
		validate(t, "GenerateResponse", arr[0])
	})
	t.Run("StreamResponse", func(t *testing.T) {
		for _, ev := range [][]string{
			events(do("/generate_stream", `{"inputs":"hi"}`)),
			events(do("/", `{"inputs":"hi","stream":true}`)),
		} {
			if len(ev) == 0 || strings.Contains(strings.Join(ev, ""), "[DONE]") {
				t.Errorf("TGI stream must have events and no [DONE]: %q", ev)
			}
			for _, e := range ev {
				validate(t, "StreamResponse", []byte(e))
			}
		}
	})
	t.Run("ErrorResponse", func(t *testing.T) {
		for _, body := range bodyNames() {
			f, err := newStatusFault(FaultSpec{Kind: "status", Body: body}, buildEnv{model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			sf := f.(*statusFault)
			if sf.ctype[0] == "application/json" && body != "model_loading" {
				validate(t, "ErrorResponse", sf.body)
			}
		}
		validate(t, "ErrorResponse", do("/v1/chat/completions", `{"messages":[],"max_tokens":0}`).Body.Bytes())
		validate(t, "ErrorResponse", overloadedBody)
	})
	t.Run("Info", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/info", nil))
		validate(t, "Info", rec.Body.Bytes())
	})
}

// TestSchemaRejects makes sure the schema check can fail: a wrong shape is
// reported.
func TestSchemaRejects(t *testing.T) {
	schemas, err := specSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"ChatCompletion":   `{"id":"","created":1,"model":"m","system_fingerprint":"x","choices":[]}`, // no usage
		"ErrorResponse":    `{"error":"x"}`,
		"GenerateResponse": `[{"generated_text":"x"}]`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if schemas[name].Validate(inst) == nil {
			t.Errorf("%s accepted %s", name, doc)
		}
	}
}
