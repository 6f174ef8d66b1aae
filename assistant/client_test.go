package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

const (
	chatURL = testBase + "/v1/chat/completions"
	textURL = testBase + "/models/test-org/test-model"
)

func TestClientChatRequestAndAnswer(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "hf_secret"} {
		t.Run("token="+token, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got struct {
				auth, ctype string
				body        chatRequest
			}
			mt.RegisterResponder(http.MethodPost, chatURL, func(r *http.Request) (*http.Response, error) {
				got.auth, got.ctype = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
				if err := json.NewDecoder(r.Body).Decode(&got.body); err != nil {
					t.Errorf("request body: %v", err)
				}
				return httpmock.NewStringResponse(200, chatBody("  Hello there.\n")), nil
			})
			cfg := testConfig()
			cfg.Token = token
			cfg.MaxTokens = 64
			c := mustClient(t, cfg, mt)
			answer, err := c.call(context.Background(), EndpointChat, newPrompt("sys", "user q"))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if want := "Hello there."; answer != want {
				t.Errorf("answer = %q, want %q", answer, want)
			}
			wantAuth := ""
			if token != "" {
				wantAuth = "Bearer " + token
			}
			if got.auth != wantAuth {
				t.Errorf("Authorization = %q, want %q", got.auth, wantAuth)
			}
			if got.ctype != "application/json" {
				t.Errorf("Content-Type = %q", got.ctype)
			}
			b := got.body
			if b.Model != "test-org/test-model" || b.MaxTokens != 64 || b.Stream || len(b.Messages) != 2 ||
				b.Messages[0] != (chatMessage{"system", "sys"}) || b.Messages[1] != (chatMessage{"user", "user q"}) {
				t.Errorf("request body = %+v", b)
			}
		})
	}
}

func TestClientTextRequestAndAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"array (HF API, TGI POST /)", `[{"generated_text":" Retry with backoff. "}]`, "Retry with backoff."},
		{"object (TGI /generate)", `{"generated_text":"Use a breaker.","details":{"finish_reason":"length"}}`, "Use a breaker."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got map[string]any
			mt.RegisterResponder(http.MethodPost, textURL, func(r *http.Request) (*http.Response, error) {
				json.NewDecoder(r.Body).Decode(&got)
				return httpmock.NewStringResponse(200, tc.body), nil
			})
			cfg := testConfig()
			cfg.MaxTokens = 32
			answer, err := mustClient(t, cfg, mt).call(context.Background(), EndpointText, newPrompt("S", "U"))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if answer != tc.want {
				t.Errorf("answer = %q, want %q", answer, tc.want)
			}
			if got["inputs"] != "S\n\nU" {
				t.Errorf("inputs = %v", got["inputs"])
			}
			params, _ := got["parameters"].(map[string]any)
			if params["max_new_tokens"] != float64(32) {
				t.Errorf("parameters = %v", got["parameters"])
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	type want struct {
		kind        ErrorKind
		status      int
		hfErr       string
		hfType      string
		clientError bool
	}
	for _, tc := range []struct {
		name      string
		endpoint  string
		responder httpmock.Responder
		want      want
	}{
		{"model loading 503", EndpointChat,
			httpmock.NewStringResponder(503, `{"error":"Model test-org/test-model is currently loading","estimated_time":20.0}`),
			want{KindStatus, 503, "Model test-org/test-model is currently loading", "", false}},
		{"TGI overloaded 429", EndpointChat,
			httpmock.NewStringResponder(429, `{"error":"Model is overloaded","error_type":"overloaded"}`),
			want{KindStatus, 429, "Model is overloaded", "overloaded", false}},
		{"TGI validation 422 is a client error", EndpointChat,
			httpmock.NewStringResponder(422, `{"error":"Input validation error: inputs too long","error_type":"validation"}`),
			want{KindStatus, 422, "Input validation error: inputs too long", "validation", true}},
		{"401 is a client error", EndpointText, httpmock.NewStringResponder(401, ``),
			want{KindStatus, 401, "", "", true}},
		{"408 counts", EndpointChat, httpmock.NewStringResponder(408, `{"error":"timeout"}`),
			want{KindStatus, 408, "timeout", "", false}},
		{"TGI incomplete generation 500", EndpointText,
			httpmock.NewStringResponder(500, `{"error":"Incomplete generation","error_type":"incomplete_generation"}`),
			want{KindStatus, 500, "Incomplete generation", "incomplete_generation", false}},
		{"OpenAI-style error object", EndpointChat,
			httpmock.NewStringResponder(500, `{"error":{"message":"boom","type":"server_error"}}`),
			want{KindStatus, 500, "boom", "server_error", false}},
		{"502 HTML page", EndpointChat,
			httpmock.NewStringResponder(502, "<html>\n<head><title>502 Bad Gateway</title></head></html>"),
			want{KindStatus, 502, "<html>", "", false}},
		{"504 plain text", EndpointChat, httpmock.NewStringResponder(504, "Gateway Timeout\n"),
			want{KindStatus, 504, "Gateway Timeout", "", false}},
		{"malformed JSON", EndpointChat, httpmock.NewStringResponder(200, `{"choices": [`),
			want{KindMalformed, 200, "", "", false}},
		{"not JSON at all", EndpointText, httpmock.NewStringResponder(200, `<html>ok</html>`),
			want{KindMalformed, 200, "", "", false}},
		{"no choices field", EndpointChat, httpmock.NewStringResponder(200, `{"id":"x"}`),
			want{KindMalformed, 200, "", "", false}},
		{"choice without content", EndpointChat, httpmock.NewStringResponder(200, `{"choices":[{"index":0}]}`),
			want{KindMalformed, 200, "", "", false}},
		{"empty choices", EndpointChat, httpmock.NewStringResponder(200, `{"choices":[]}`),
			want{KindEmpty, 200, "", "", false}},
		{"empty generation array", EndpointText, httpmock.NewStringResponder(200, `[]`),
			want{KindEmpty, 200, "", "", false}},
		{"connection reset", EndpointChat, httpmock.NewErrorResponder(errors.New("read: connection reset by peer")),
			want{KindTransport, 0, "", "", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodPost, chatURL, tc.responder)
			mt.RegisterResponder(http.MethodPost, textURL, tc.responder)
			_, err := mustClient(t, testConfig(), mt).call(context.Background(), tc.endpoint, newPrompt("", "q"))
			var ue *UpstreamError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T), want *UpstreamError", err, err)
			}
			got := want{ue.Kind, ue.StatusCode, ue.HFError, ue.HFType, ue.ClientError()}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if ue.Endpoint != tc.endpoint {
				t.Errorf("Endpoint = %q, want %q", ue.Endpoint, tc.endpoint)
			}
			if excludedFromBreaker(err) != tc.want.clientError {
				t.Errorf("excludedFromBreaker = %v, want %v", !tc.want.clientError, tc.want.clientError)
			}
			if ue.Error() == "" || !strings.HasPrefix(ue.Error(), "upstream "+tc.endpoint+": "+tc.want.kind.String()) {
				t.Errorf("Error() = %q", ue.Error())
			}
		})
	}
}

// blockUntilCancelled never answers on its own: only the request's context
// ends it.
func blockUntilCancelled(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, chatURL, blockUntilCancelled)
	cfg := testConfig()
	cfg.CallTimeout = 30 * time.Millisecond
	start := time.Now()
	_, err := mustClient(t, cfg, mt).call(context.Background(), EndpointChat, newPrompt("", "q"))
	elapsed := time.Since(start)
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Kind != KindTimeout || !ue.Timeout() {
		t.Fatalf("err = %v, want a timeout *UpstreamError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
	}
	if excludedFromBreaker(err) {
		t.Error("a timeout must count for the breaker")
	}
	if elapsed < cfg.CallTimeout || elapsed > 5*time.Second {
		t.Errorf("call took %v, want about %v", elapsed, cfg.CallTimeout)
	}
}

func TestClientTimeoutWhileReadingBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CallTimeout = 30 * time.Millisecond
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp := jsonResponse(r, 200, "")
		resp.Body = io.NopCloser(ctxReader{r.Context()})
		return resp, nil
	})
	_, err := mustClient(t, cfg, rt).call(context.Background(), EndpointChat, newPrompt("", "q"))
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Kind != KindTimeout || ue.StatusCode != 200 {
		t.Fatalf("err = %v, want a timeout with status 200", err)
	}
}

// ctxReader dribbles nothing until its context ends.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func TestClientCallerCancelled(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, chatURL, blockUntilCancelled)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err := mustClient(t, testConfig(), mt).call(ctx, EndpointChat, newPrompt("", "q"))
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Kind != KindCanceled {
		t.Fatalf("err = %v, want a canceled *UpstreamError", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
	if !excludedFromBreaker(err) {
		t.Error("a caller that went away must not count for the breaker")
	}
}

func TestClientBodyTooLarge(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	big := `{"choices":[{"message":{"content":"` + strings.Repeat("a", maxUpstreamBody) + `"}}]}`
	mt.RegisterResponder(http.MethodPost, chatURL, httpmock.NewStringResponder(200, big))
	_, err := mustClient(t, testConfig(), mt).call(context.Background(), EndpointChat, newPrompt("", "q"))
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Kind != KindMalformed {
		t.Fatalf("err = %v, want malformed", err)
	}
}

// TestClientRequestFraming checks what the client builds by hand instead
// of http.NewRequest: a framed, replayable body (the transport retries a
// request on a reused connection that turned out dead only if it can
// replay it), the per-call deadline, and an http.Client's error wording.
func TestClientRequestFraming(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	var checked bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		checked = true
		body, _ := io.ReadAll(r.Body)
		if r.ContentLength != int64(len(body)) || len(body) == 0 {
			t.Errorf("ContentLength = %d, body %d bytes", r.ContentLength, len(body))
		}
		again, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if replay, _ := io.ReadAll(again); !bytes.Equal(replay, body) {
			t.Errorf("GetBody gives %q, want %q", replay, body)
		}
		dl, ok := r.Context().Deadline()
		if !ok || time.Until(dl) > cfg.CallTimeout {
			t.Errorf("deadline %v (set %v), want within the call timeout %v", dl, ok, cfg.CallTimeout)
		}
		if r.Method != http.MethodPost || r.URL.String() != chatURL || r.Header.Get("Accept") != "application/json" {
			t.Errorf("request %s %s Accept %q", r.Method, r.URL, r.Header.Get("Accept"))
		}
		return nil, errors.New("connection refused")
	})
	_, err := mustClient(t, cfg, rt).call(context.Background(), EndpointChat, newPrompt("s", "u"))
	if !checked {
		t.Fatal("the round tripper was not called")
	}
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Kind != KindTransport {
		t.Fatalf("err = %v, want a transport *UpstreamError", err)
	}
	if want := `Post "` + chatURL + `": connection refused`; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

func TestNewRefusesModelThatIsNoURLPath(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Model = "org/bad%zz"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "upstream URL") {
		t.Fatalf("New with model %q: err = %v, want an upstream URL error", cfg.Model, err)
	}
}
