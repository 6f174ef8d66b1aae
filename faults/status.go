package faults

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// statusFault answers with an HTTP error status and a realistic body,
// rendered once at construction.
type statusFault struct {
	code       int
	ctype      []string
	body       []byte
	retryAfter []string // nil: no Retry-After header
}

// namedBody is a realistic error answer: its default code and a renderer.
type namedBody struct {
	code   int
	render func(f FaultSpec, model string) ([]string, []byte)
}

// jsonError renders TGI's {"error","error_type"} with msg unless overridden.
func jsonError(msg, errorType string) func(FaultSpec, string) ([]string, []byte) {
	return func(f FaultSpec, _ string) ([]string, []byte) {
		return ctJSON, errorBody(cmp.Or(f.Message, msg), errorType)
	}
}

// namedBodies are the error answers seen from TGI, the HF serverless API and
// the load balancers in front of them (see docs/fakehf.md).
var namedBodies = map[string]namedBody{
	"model_loading": {http.StatusServiceUnavailable, func(f FaultSpec, model string) ([]string, []byte) {
		msg := cmp.Or(f.Message, "Model "+model+" is currently loading")
		est := cmp.Or(f.EstimatedTime, 20*time.Second)
		b := append([]byte(`{"error":`), appendQuoted(nil, msg)...)
		b = append(b, `,"estimated_time":`...)
		b = strconv.AppendFloat(b, est.Seconds(), 'f', 1, 64)
		return ctJSON, append(b, '}')
	}},
	"overloaded":            {http.StatusTooManyRequests, jsonError("Model is overloaded", "overloaded")},
	"validation":            {http.StatusUnprocessableEntity, jsonError("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 3474 `inputs` tokens and 60 `max_new_tokens`", "validation")},
	"generation":            {http.StatusFailedDependency, jsonError("Request failed during generation: Server error: CUDA out of memory. Tried to allocate 2.00 GiB", "generation")},
	"incomplete_generation": {http.StatusInternalServerError, jsonError("Incomplete generation", "incomplete_generation")},
	"bad_gateway": {http.StatusBadGateway, func(f FaultSpec, _ string) ([]string, []byte) {
		title := cmp.Or(f.Message, "502 Bad Gateway")
		return ctHTML, []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
			"</h1></center>\r\n</body>\r\n</html>\r\n")
	}},
	"gateway_timeout": {http.StatusGatewayTimeout, func(f FaultSpec, _ string) ([]string, []byte) {
		return ctTextPlain, []byte(cmp.Or(f.Message, "upstream request timeout"))
	}},
}

// bodyForCode is the named body a bare code gets.
var bodyForCode = map[int]string{
	422: "validation", 424: "generation", 429: "overloaded", 500: "incomplete_generation",
	502: "bad_gateway", 503: "model_loading", 504: "gateway_timeout",
}

func newStatusFault(f FaultSpec, env buildEnv) (fault, error) {
	if err := onlyParams(f, "code", "body", "retry_after", "estimated_time", "message"); err != nil {
		return nil, err
	}
	if f.Code != 0 && (f.Code < 100 || f.Code > 599) {
		return nil, fmt.Errorf("code: must be an HTTP status in [100,599], got %d", f.Code)
	}
	if f.RetryAfter < 0 {
		return nil, fmt.Errorf("retry_after: must be >= 0, got %v", f.RetryAfter)
	}
	name := f.Body
	if name == "" {
		if f.Code == 0 {
			return nil, fmt.Errorf("status: need code or body (one of %s)", strings.Join(bodyNames(), ", "))
		}
		name = bodyForCode[f.Code]
	}
	if f.EstimatedTime != 0 && name != "model_loading" {
		return nil, fmt.Errorf("estimated_time: only used by body model_loading")
	}
	sf := &statusFault{code: f.Code}
	if name == "" {
		// Any other code: TGI's error shape with the status text.
		msg := cmp.Or(f.Message, http.StatusText(f.Code), "error "+strconv.Itoa(f.Code))
		sf.ctype, sf.body = ctJSON, errorBody(msg, strings.ReplaceAll(strings.ToLower(http.StatusText(f.Code)), " ", "_"))
	} else {
		nb, ok := namedBodies[name]
		if !ok {
			return nil, fmt.Errorf("body: unknown %q (want one of %s)", name, strings.Join(bodyNames(), ", "))
		}
		if sf.code == 0 {
			sf.code = nb.code
		}
		sf.ctype, sf.body = nb.render(f, env.model)
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		sf.retryAfter = []string{strconv.FormatInt(secs, 10)}
	}
	return sf, nil
}

func bodyNames() []string {
	return []string{"model_loading", "overloaded", "validation", "generation", "incomplete_generation", "bad_gateway", "gateway_timeout"}
}

func (f *statusFault) apply(ex *exchange) {
	ex.handled = true
	if f.retryAfter != nil {
		ex.w.Header()["Retry-After"] = f.retryAfter
	}
	ex.respond(f.code, f.ctype, f.body)
}
