package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"brownout/internal/jsonfast"
)

// request is what the server needs from a decoded inference request.
type request struct {
	promptHash   uint64 // hashPrompt of all prompt text: seeds the generated text
	promptLen    int    // bytes of prompt text
	promptTokens int    // usage.prompt_tokens
	maxTokens    int    // 0 = not given (phase default applies)
	stream       bool
	includeUsage bool   // chat stream_options.include_usage
	model        string // the request's model, "" if absent
	details      bool   // /generate(_stream) parameters.details
}

// setPrompt records what the server keeps of the prompt text.
func (r *request) setPrompt(p []byte) {
	r.promptHash, r.promptLen = hashPrompt(p), len(p)
}

// apiError is a client mistake answered with a realistic status and body.
type apiError struct {
	status int
	ctype  []string
	body   []byte
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.body) }

// axum's plain-text rejections (TGI's HTTP framework) and TGI's JSON
// validation error.
func parseError(detail string) *apiError {
	return &apiError{http.StatusBadRequest, ctTextPlain, []byte("Failed to parse the request body as JSON: " + detail)}
}

func deserializeError(detail string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, ctTextPlain, []byte("Failed to deserialize the JSON body into the target type: " + detail)}
}

func validationError(msg string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, ctJSON, errorBody("Input validation error: "+msg, "validation")}
}

// chatRequest mirrors TGI's ChatRequest, keeping only what shapes the answer.
type chatRequest struct {
	Messages            *[]chatMessage `json:"messages"`
	MaxTokens           *int64         `json:"max_tokens"`
	MaxCompletionTokens *int64         `json:"max_completion_tokens"`
	Stream              bool           `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Model *string `json:"model"`
}

type chatMessage struct {
	Role    string         `json:"role"`
	Content messageContent `json:"content"`
}

// messageContent is a chat message's content: a string or a list of text
// chunks. It decodes in the same pass as the request (no RawMessage copy
// and second parse: the prompt is most of a RAG request's bytes). A value
// of the wrong type is kept as err, so the caller can answer 422 with the
// message's index, as TGI does.
type messageContent struct {
	text string
	err  error
}

// UnmarshalJSON implements json.Unmarshaler. encoding/json has validated
// the whole body before it calls this, so raw is well-formed JSON.
func (c *messageContent) UnmarshalJSON(raw []byte) error {
	*c = messageContent{}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch raw[0] {
	case '"':
		c.text = unquoteValid(raw)
	case '[':
		var chunks []contentChunk
		if err := json.Unmarshal(raw, &chunks); err != nil {
			c.err = err
			return nil
		}
		var sb strings.Builder
		for _, ch := range chunks {
			sb.WriteString(ch.Text)
		}
		c.text = sb.String()
	default:
		c.err = errors.New("invalid type, expected a string or a list of chunks")
	}
	return nil
}

// unquoteValid decodes a JSON string literal already known to be valid.
func unquoteValid(raw []byte) string {
	s, _ := jsonfast.Unquote(raw[1 : len(raw)-1])
	return s
}

type contentChunk struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// completionRequest mirrors TGI's CompletionRequest; prompt is a string or
// a list of strings.
type completionRequest struct {
	Prompt    json.RawMessage `json:"prompt"`
	MaxTokens *int64          `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	Model     *string         `json:"model"`
}

// generateRequest mirrors GenerateRequest and CompatGenerateRequest.
type generateRequest struct {
	Inputs     *string `json:"inputs"`
	Parameters *struct {
		MaxNewTokens *int64 `json:"max_new_tokens"`
		Details      *bool  `json:"details"`
	} `json:"parameters"`
	Stream bool `json:"stream"`
}

// decodeRequest decodes an inference request for route the way TGI would,
// answering client mistakes with TGI's status codes and bodies. It never
// panics, whatever the body.
func decodeRequest(route string, body []byte) (request, *apiError) {
	var req request
	if len(bytes.TrimSpace(body)) == 0 {
		return req, parseError("EOF while parsing a value at line 1 column 0")
	}
	switch route {
	case routeChat:
		if fast, ok := decodeChatFast(body); ok {
			req = fast
			break
		}
		var cr chatRequest
		if err := unmarshal(body, &cr); err != nil {
			return req, err
		}
		if cr.Messages == nil {
			return req, deserializeError("missing field `messages`")
		}
		var prompt []byte
		for i, m := range *cr.Messages {
			if m.Content.err != nil {
				return req, deserializeError(fmt.Sprintf("messages[%d].content: %v", i, m.Content.err))
			}
			prompt = append(prompt, m.Content.text...)
		}
		if len(*cr.Messages) == 0 {
			return req, validationError("`messages` cannot be empty")
		}
		req.setPrompt(prompt)
		mt := cr.MaxTokens
		if mt == nil {
			mt = cr.MaxCompletionTokens
		}
		if err := setMaxTokens(&req, mt); err != nil {
			return req, err
		}
		req.stream = cr.Stream
		req.includeUsage = cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage
		if cr.Model != nil {
			req.model = *cr.Model
		}
	case routeCompletions:
		var cr completionRequest
		if err := unmarshal(body, &cr); err != nil {
			return req, err
		}
		prompt, err := promptText(cr.Prompt)
		if err != nil {
			return req, err
		}
		req.setPrompt([]byte(prompt))
		if err := setMaxTokens(&req, cr.MaxTokens); err != nil {
			return req, err
		}
		req.stream = cr.Stream
		if cr.Model != nil {
			req.model = *cr.Model
		}
	case routeCompat, routeGenerate, routeGenerateStream:
		var gr generateRequest
		if err := unmarshal(body, &gr); err != nil {
			return req, err
		}
		if gr.Inputs == nil {
			return req, deserializeError("missing field `inputs`")
		}
		if *gr.Inputs == "" {
			return req, validationError("`inputs` cannot be empty")
		}
		req.setPrompt([]byte(*gr.Inputs))
		req.details = route != routeCompat
		if p := gr.Parameters; p != nil {
			if err := setMaxTokens(&req, p.MaxNewTokens); err != nil {
				return req, err
			}
			if p.Details != nil {
				req.details = *p.Details
			}
		}
		req.stream = route == routeGenerateStream || (route == routeCompat && gr.Stream)
	default:
		return req, &apiError{http.StatusNotFound, nil, nil}
	}
	req.promptTokens = max(1, (req.promptLen+3)/4)
	return req, nil
}

// unmarshal decodes body into v, classifying failures like axum: syntax
// errors are 400, type errors 422.
func unmarshal(body []byte, v any) *apiError {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return parseError(fmt.Sprintf("%v at offset %d", se, se.Offset))
	case errors.As(err, &te):
		return deserializeError(fmt.Sprintf("%s: invalid type: %s, expected %s", te.Field, te.Value, jsonKind(te.Type)))
	default:
		return parseError(err.Error())
	}
}

// jsonKind names what JSON a Go type decodes from, in the words of serde
// (TGI's JSON library), so that a 422 says what the client should have
// sent rather than naming one of this package's Go types.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a sequence (a JSON array)"
	case reflect.Struct, reflect.Map:
		return "a map (a JSON object)"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a JSON value of another type"
}

// setMaxTokens checks a max_tokens/max_new_tokens value: negative values do
// not fit TGI's u32 (422 plain text), zero fails validation (422 JSON).
func setMaxTokens(req *request, v *int64) *apiError {
	if v == nil {
		return nil
	}
	switch {
	case *v < 0 || *v > 1<<32-1:
		return deserializeError(fmt.Sprintf("max_tokens: invalid value: integer `%d`, expected u32", *v))
	case *v == 0:
		return validationError("`max_new_tokens` must be strictly positive")
	}
	req.maxTokens = int(min(*v, 1<<31-1))
	return nil
}

// promptText extracts a completion prompt: a string or a list of strings.
func promptText(raw json.RawMessage) (string, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", deserializeError("missing field `prompt`")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", deserializeError("prompt: " + err.Error())
		}
	} else {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", deserializeError("prompt: invalid type, expected a string or a list of strings")
		}
		s = strings.Join(list, "")
	}
	if s == "" {
		return "", validationError("`inputs` cannot be empty")
	}
	return s, nil
}
