package assistant

import (
	"bytes"
	"encoding/json"
	"testing"
)

// marshalStd is encoding/json without HTML escaping, the reference for the
// hand-written JSON.
func marshalStd(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestAnswersMatchEncodingJSON checks every kind of 200 answer byte for
// byte against encoding/json's rendering of the decoded QueryResponse.
func TestAnswersMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	up := &upstream{}
	s := newTestService(t, testConfig(), up)
	questions := append(SampleQuestions(), `Quotes "and" \backslashes\ <tags> & ünïcode?`)
	for _, mode := range []struct {
		status int
		body   string
	}{
		{200, chatBody("Answer with \"quotes\", <html> & a\nnewline \u2028.")},
		{500, `{"error":"down"}`},
	} {
		up.set(mode.status, mode.body)
		for _, q := range questions {
			rec := ask(t, s, q)
			if rec.Code != 200 {
				continue
			}
			a := decode[QueryResponse](t, rec)
			got := bytes.TrimSuffix(rec.Body.Bytes(), []byte("\n"))
			if want := marshalStd(t, a); !bytes.Equal(got, want) {
				t.Fatalf("%q:\n got %s\nwant %s", q, got, want)
			}
		}
	}
}

func TestRequestBodiesMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, maxTokens := range []int{0, 128} {
		cfg := testConfig()
		cfg.Model = `org/"odd" model`
		cfg.MaxTokens = maxTokens
		c := mustClient(t, cfg, nil)
		sys, user := "System \"prompt\"\n", "Context:\n[1] x <y> & z\n\nQuestion: ünï?"
		p := newPrompt(sys, user)

		got := c.appendChatRequest(nil, p)
		want := marshalStd(t, chatRequest{Model: cfg.Model, MaxTokens: maxTokens,
			Messages: []chatMessage{{"system", sys}, {"user", user}}})
		if !bytes.Equal(got, want) {
			t.Errorf("chat body:\n got %s\nwant %s", got, want)
		}

		type params struct {
			MaxNewTokens   int  `json:"max_new_tokens,omitempty"`
			ReturnFullText bool `json:"return_full_text"`
		}
		got = c.appendTextRequest(nil, p)
		want = marshalStd(t, struct {
			Inputs     string `json:"inputs"`
			Parameters params `json:"parameters"`
		}{sys + "\n\n" + user, params{MaxNewTokens: maxTokens}})
		if !bytes.Equal(got, want) {
			t.Errorf("text body:\n got %s\nwant %s", got, want)
		}
	}
}
