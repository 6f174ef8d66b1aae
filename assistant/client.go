package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"brownout/contract"
	"brownout/internal/jsonfast"
)

// Endpoint names, as used in breaker names, metrics and errors.
const (
	EndpointChat = "chat"
	EndpointText = "text"
)

// maxUpstreamBody bounds how much of an upstream answer is read. A longer
// body is treated as malformed.
const maxUpstreamBody = 4 << 20

// ErrorKind classifies an upstream failure.
type ErrorKind int

// The kinds of upstream failure. Each is a distinct [*UpstreamError].
const (
	// KindStatus: the upstream answered with a non-2xx status.
	KindStatus ErrorKind = iota + 1
	// KindMalformed: a 2xx answer whose body is not the expected JSON.
	KindMalformed
	// KindEmpty: a well-formed answer without any choice or generation.
	KindEmpty
	// KindTransport: the request could not be sent or the answer could not
	// be read (refused, reset, closed early).
	KindTransport
	// KindTimeout: the call ran out of its per-call time.
	KindTimeout
	// KindCanceled: the caller went away; not the upstream's fault.
	KindCanceled
)

var kindNames = [...]string{"", "status", "malformed", "empty", "transport", "timeout", "canceled"}

// String returns the kind's name: status, malformed, empty, transport,
// timeout or canceled.
func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// UpstreamError is the error of every failed upstream call. It keeps the
// HTTP status and HuggingFace's error and error_type texts when there were
// any, and wraps the underlying error (for example context.DeadlineExceeded
// or a *net.OpError).
type UpstreamError struct {
	Kind       ErrorKind
	Endpoint   string // EndpointChat or EndpointText
	StatusCode int    // 0 when no HTTP status was received
	HFError    string // the body's "error" (or "error.message"), if any
	HFType     string // the body's "error_type", if any
	Err        error  // underlying cause, may be nil
}

// Error describes the failure in one line.
func (e *UpstreamError) Error() string {
	var b strings.Builder
	b.WriteString("upstream ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " %d", e.StatusCode)
	}
	if e.HFError != "" {
		fmt.Fprintf(&b, ": %s", e.HFError)
	}
	if e.HFType != "" {
		fmt.Fprintf(&b, " (%s)", e.HFType)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *UpstreamError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time.
func (e *UpstreamError) Timeout() bool { return e.Kind == KindTimeout }

// ClientError reports whether the upstream rejected the request itself: a
// 4xx other than 408 (request timeout) and 429 (too many requests). Such
// answers say nothing about the upstream's health, so the breaker does not
// count them (the Go form of the seed's excluded ValueError/TypeError).
func (e *UpstreamError) ClientError() bool {
	return e.Kind == KindStatus && e.StatusCode >= 400 && e.StatusCode < 500 &&
		e.StatusCode != http.StatusRequestTimeout && e.StatusCode != http.StatusTooManyRequests
}

// excludedFromBreaker reports whether err must be neither a success nor a
// failure for the breaker: client errors and callers that went away.
func excludedFromBreaker(err error) bool {
	if err == nil {
		return false
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Kind == KindCanceled || ue.ClientError()
	}
	return errors.Is(err, context.Canceled)
}

// client calls the HuggingFace inference API. It calls its RoundTripper
// directly rather than through an http.Client: the assistant never follows
// redirects, keeps no cookies and bounds each call with its own context,
// so a Client would only add a header copy and a second cancel context to
// every call on the assistant's hottest path.
type client struct {
	rt        http.RoundTripper
	chatURL   *url.URL
	textURL   *url.URL
	modelJSON []byte
	auth      []string // {"Bearer <token>"} or nil
	timeout   time.Duration
	maxTokens int
}

// newClient parses the two upstream URLs once: the base must be absolute
// http(s), and the model id must be usable as a URL path.
func newClient(cfg Config, rt http.RoundTripper) (*client, error) {
	base := strings.TrimRight(cfg.UpstreamURL, "/")
	chatURL, err := parseUpstreamURL(base + "/v1/chat/completions")
	if err != nil {
		return nil, err
	}
	textURL, err := parseUpstreamURL(base + "/models/" + strings.TrimLeft(cfg.Model, "/"))
	if err != nil {
		return nil, err
	}
	c := &client{
		rt:        rt,
		chatURL:   chatURL,
		textURL:   textURL,
		modelJSON: jsonfast.AppendString(nil, cfg.Model),
		timeout:   cfg.CallTimeout,
		maxTokens: cfg.MaxTokens,
	}
	if cfg.Token != "" {
		c.auth = []string{"Bearer " + cfg.Token}
	}
	return c, nil
}

// parseUpstreamURL parses one endpoint URL of the upstream.
func parseUpstreamURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("upstream URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream URL %q: want an absolute http or https URL", raw)
	}
	return u, nil
}

// prompt is what the assistant asks the model. Both parts are already
// escaped for the inside of a JSON string literal (see jsonfast.AppendString).
type prompt struct {
	system []byte
	user   []byte
	// requestID is the caller's X-Request-Id, forwarded on every upstream
	// call of the query so that logs on both sides can be joined; nil when
	// the caller sent none.
	requestID []string
}

// chatMessage and chatRequest document (and let tests decode) the body that
// appendChatRequest writes.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model     string        `json:"model"`
	Messages  []chatMessage `json:"messages"`
	MaxTokens int           `json:"max_tokens,omitempty"`
	Stream    bool          `json:"stream"`
}

// appendChatRequest writes an OpenAI-compatible chat completion request.
func (c *client) appendChatRequest(dst []byte, p prompt) []byte {
	dst = append(dst, `{"model":"`...)
	dst = append(dst, c.modelJSON...)
	dst = append(dst, `","messages":[{"role":"system","content":"`...)
	dst = append(dst, p.system...)
	dst = append(dst, `"},{"role":"user","content":"`...)
	dst = append(dst, p.user...)
	dst = append(dst, `"}]`...)
	if c.maxTokens > 0 {
		dst = append(dst, `,"max_tokens":`...)
		dst = strconv.AppendInt(dst, int64(c.maxTokens), 10)
	}
	return append(dst, `,"stream":false}`...)
}

// appendTextRequest writes a legacy text generation request:
// {"inputs": "...", "parameters": {...}}.
func (c *client) appendTextRequest(dst []byte, p prompt) []byte {
	dst = append(dst, `{"inputs":"`...)
	dst = append(dst, p.system...)
	dst = append(dst, `\n\n`...)
	dst = append(dst, p.user...)
	dst = append(dst, `","parameters":{`...)
	if c.maxTokens > 0 {
		dst = append(dst, `"max_new_tokens":`...)
		dst = strconv.AppendInt(dst, int64(c.maxTokens), 10)
		dst = append(dst, ',')
	}
	return append(dst, `"return_full_text":false}}`...)
}

type chatResponse struct {
	Choices *[]struct {
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

type textGeneration struct {
	GeneratedText *string `json:"generated_text"`
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// call asks endpoint (EndpointChat or EndpointText) for an answer. Every
// failure is an *UpstreamError.
func (c *client) call(ctx context.Context, endpoint string, p prompt) (string, error) {
	// The request body is not pooled: a RoundTripper may read it after
	// RoundTrip has returned.
	body := make([]byte, 0, 160+len(c.modelJSON)+len(p.system)+len(p.user))
	target := c.chatURL
	if endpoint == EndpointChat {
		body = c.appendChatRequest(body, p)
	} else {
		target = c.textURL
		body = c.appendTextRequest(body, p)
	}

	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *target
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": headerJSON, "Accept": headerJSON},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	if p.requestID != nil {
		req.Header[contract.HeaderRequestID] = p.requestID
	}
	req = req.WithContext(callCtx)

	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		// The message an http.Client would give: `Post "URL": ...`.
		err = &url.Error{Op: "Post", URL: u.String(), Err: err}
		return "", c.transportError(ctx, callCtx, endpoint, 0, err)
	}
	defer resp.Body.Close()
	rbuf := bufPool.Get().(*bytes.Buffer)
	rbuf.Reset()
	defer bufPool.Put(rbuf)
	_, err = rbuf.ReadFrom(io.LimitReader(resp.Body, maxUpstreamBody+1))
	if err != nil {
		return "", c.transportError(ctx, callCtx, endpoint, resp.StatusCode, err)
	}
	answer := rbuf.Bytes()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ue := &UpstreamError{Kind: KindStatus, Endpoint: endpoint, StatusCode: resp.StatusCode}
		ue.HFError, ue.HFType = parseHFError(answer)
		return "", ue
	}
	if len(answer) > maxUpstreamBody {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: endpoint, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("body longer than %d bytes", maxUpstreamBody)}
	}
	if endpoint == EndpointChat {
		return decodeChat(answer, resp.StatusCode)
	}
	return decodeText(answer, resp.StatusCode)
}

// transportError classifies a failure to send or read: the per-call timeout,
// the caller going away, or anything else on the wire.
func (c *client) transportError(parent, callCtx context.Context, endpoint string, status int, err error) error {
	kind := KindTransport
	switch {
	case parent.Err() != nil && errors.Is(parent.Err(), context.Canceled):
		kind = KindCanceled
		if !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w: %w", context.Canceled, err)
		}
	case callCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err):
		kind = KindTimeout
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
	}
	return &UpstreamError{Kind: kind, Endpoint: endpoint, StatusCode: status, Err: err}
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func decodeChat(body []byte, status int) (string, error) {
	if content, ok := scanChatContent(body); ok {
		return strings.TrimSpace(content), nil
	}
	return decodeChatStd(body, status)
}

// decodeChatStd decodes with encoding/json: the reference, and the path for
// every answer the fast scanner leaves alone.
func decodeChatStd(body []byte, status int) (string, error) {
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: EndpointChat, StatusCode: status, Err: err}
	}
	if r.Choices == nil {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: EndpointChat, StatusCode: status,
			Err: errors.New(`no "choices" in the answer`)}
	}
	if len(*r.Choices) == 0 {
		return "", &UpstreamError{Kind: KindEmpty, Endpoint: EndpointChat, StatusCode: status,
			Err: errors.New(`"choices" is empty`)}
	}
	ch := (*r.Choices)[0]
	if ch.Message == nil || ch.Message.Content == nil {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: EndpointChat, StatusCode: status,
			Err: errors.New(`no "choices[0].message.content" in the answer`)}
	}
	return strings.TrimSpace(*ch.Message.Content), nil
}

// decodeText accepts the array the HF API and TGI's POST / send, and the
// single object that TGI's /generate sends.
func decodeText(body []byte, status int) (string, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	var gens []textGeneration
	var err error
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var g textGeneration
		err = json.Unmarshal(body, &g)
		gens = []textGeneration{g}
	} else {
		err = json.Unmarshal(body, &gens)
	}
	if err != nil {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: EndpointText, StatusCode: status, Err: err}
	}
	if len(gens) == 0 {
		return "", &UpstreamError{Kind: KindEmpty, Endpoint: EndpointText, StatusCode: status,
			Err: errors.New("no generation in the answer")}
	}
	if gens[0].GeneratedText == nil {
		return "", &UpstreamError{Kind: KindMalformed, Endpoint: EndpointText, StatusCode: status,
			Err: errors.New(`no "generated_text" in the answer`)}
	}
	return strings.TrimSpace(*gens[0].GeneratedText), nil
}

// parseHFError extracts HF's {"error": "...", "error_type": "..."} or the
// OpenAI-style {"error": {"message": "...", "type": "..."}}. Bodies that are
// not JSON (a proxy's HTML page, a plain-text 504) give their first line,
// shortened.
func parseHFError(body []byte) (msg, typ string) {
	var r struct {
		Error     json.RawMessage `json:"error"`
		ErrorType string          `json:"error_type"`
	}
	if json.Unmarshal(body, &r) == nil && len(r.Error) > 0 {
		var s string
		if json.Unmarshal(r.Error, &s) == nil {
			return s, r.ErrorType
		}
		var o struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		}
		if json.Unmarshal(r.Error, &o) == nil {
			if r.ErrorType == "" {
				r.ErrorType = o.Type
			}
			return o.Message, r.ErrorType
		}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	line = strings.TrimSpace(line)
	if len(line) > 200 {
		line = line[:200]
	}
	return line, r.ErrorType
}
