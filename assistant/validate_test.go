package assistant

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"brownout/contract"
)

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxQuestionChars+1)
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		body    string
		code    int
		errName string
		msg     string // part of the message
	}{
		{"GET query", http.MethodGet, contract.PathQuery, "", 405, "method_not_allowed", "use POST"},
		{"PUT query", http.MethodPut, contract.PathQuery, `{"question":"x"}`, 405, "method_not_allowed", "use POST"},
		{"POST health", http.MethodPost, contract.PathHealth, "", 405, "method_not_allowed", "use GET"},
		{"DELETE metrics", http.MethodDelete, PathMetrics, "", 405, "method_not_allowed", "use GET"},
		{"unknown path", http.MethodGet, "/nope", "", 404, "not_found", "/nope"},
		{"empty body", http.MethodPost, contract.PathQuery, "", 400, "invalid_request", "empty"},
		{"blank body", http.MethodPost, contract.PathQuery, "  \n", 400, "invalid_request", "empty"},
		{"array", http.MethodPost, contract.PathQuery, `["question"]`, 400, "invalid_request", "JSON object"},
		{"null", http.MethodPost, contract.PathQuery, `null`, 400, "invalid_request", "JSON object"},
		{"string", http.MethodPost, contract.PathQuery, `"What is a circuit breaker?"`, 400, "invalid_request", "JSON object"},
		{"malformed", http.MethodPost, contract.PathQuery, `{"question": "x",}`, 400, "invalid_request", "malformed JSON"},
		{"truncated", http.MethodPost, contract.PathQuery, `{"question": "x"`, 400, "invalid_request", "malformed JSON"},
		{"trailing value", http.MethodPost, contract.PathQuery, `{"question": "x"} {"question": "y"}`, 400, "invalid_request", "more than one"},
		{"missing question", http.MethodPost, contract.PathQuery, `{"top_k": 3}`, 400, "invalid_request", `"question" is missing`},
		{"null question", http.MethodPost, contract.PathQuery, `{"question": null}`, 400, "invalid_request", `"question" is missing`},
		{"empty question", http.MethodPost, contract.PathQuery, `{"question": ""}`, 400, "invalid_request", `"question" is empty`},
		{"blank question", http.MethodPost, contract.PathQuery, `{"question": " \t\n "}`, 400, "invalid_request", `"question" is empty`},
		{"numeric question", http.MethodPost, contract.PathQuery, `{"question": 42}`, 400, "invalid_request", `"question" must be a string`},
		{"question too long", http.MethodPost, contract.PathQuery, `{"question": "` + long + `"}`, 400, "invalid_request", "2001 characters, at most 2000"},
		{"unknown field", http.MethodPost, contract.PathQuery, `{"question": "x", "stream": true}`, 400, "invalid_request", `unknown field "stream"`},
		{"top_k zero", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": 0}`, 400, "invalid_request", `"top_k" is 0`},
		{"top_k negative", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": -1}`, 400, "invalid_request", `"top_k"`},
		{"top_k too big", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": 51}`, 400, "invalid_request", "from 1 to 50"},
		{"top_k string", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": "5"}`, 400, "invalid_request", `"top_k" must be an integer`},
		{"top_k fraction", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": 2.5}`, 400, "invalid_request", `"top_k" must be an integer`},
		{"top_k huge", http.MethodPost, contract.PathQuery, `{"question": "x", "top_k": 1e400}`, 400, "invalid_request", `"top_k"`},
		{"body over 64 KiB", http.MethodPost, contract.PathQuery, `{"question": "` + strings.Repeat("a", MaxRequestBodySize) + `"}`, 413, "request_too_large", "65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := &upstream{}
			s := newTestService(t, testConfig(), up)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.code, rec.Body.String())
			}
			e := decode[ErrorResponse](t, rec)
			if e.Error != tc.errName || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("body = %+v, want error %q with message containing %q", e, tc.errName, tc.msg)
			}
			if tc.code == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if n := up.calls.Load(); n != 0 {
				t.Errorf("an invalid request reached the upstream %d times", n)
			}
		})
	}
}

func TestLimitsAreInclusive(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testConfig(), &upstream{})
	q := strings.Repeat("é", MaxQuestionChars)
	if rec := post(t, s, `{"question": "`+q+`", "top_k": 50}`); rec.Code != http.StatusOK && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("2000-character question, top_k 50: status %d: %s", rec.Code, rec.Body.String())
	}
	// Exactly 64 KiB of body is allowed.
	pad := MaxRequestBodySize - len(`{"question": "x"}`)
	body := `{"question": "x"}` + strings.Repeat(" ", pad)
	if rec := post(t, s, body); rec.Code == http.StatusRequestEntityTooLarge || rec.Code == http.StatusBadRequest {
		t.Errorf("64 KiB body: status %d", rec.Code)
	}
}

// FuzzQueryBody: whatever the body, the answer is a known status with a JSON
// body, never a 500.
func FuzzQueryBody(f *testing.F) {
	for _, seed := range []string{
		`{"question":"What is a circuit breaker?"}`, `{"question":"x","top_k":3}`, `{}`, `[]`, `null`,
		`{"question":`, `{"question":"\u0000"}`, `{"question":"x","top_k":1e9}`, "\xff\xfe", `{"Question":"x"}`,
	} {
		f.Add(seed)
	}
	s := newTestService(f, testConfig(), &upstream{})
	f.Fuzz(func(t *testing.T, body string) {
		rec := post(t, s, body)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
	})
}
