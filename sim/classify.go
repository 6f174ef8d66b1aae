package sim

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"

	"brownout/recording"
)

// answerMeta is the part of the assistant's answer the harness reads: the
// contract's metadata says whether the answer came from a fallback.
type answerMeta struct {
	Metadata struct {
		FromFallback   bool   `json:"from_fallback"`
		FallbackReason string `json:"fallback_reason"`
		FallbackSource string `json:"fallback_source"`
	} `json:"metadata"`
}

// classify derives a request's outcome from the HTTP answer alone, so the
// harness judges any service that speaks the seed's contract, not only the
// built-in one. It returns the outcome, the fallback reason and, for a bad
// response, what was wrong with it.
func classify(status int, body []byte, transportErr string) (recording.Outcome, string, string) {
	if status == 0 {
		return recording.OutcomeError, "", transportErr
	}
	switch status {
	case http.StatusOK:
		var a answerMeta
		if err := json.Unmarshal(body, &a); err != nil {
			return recording.OutcomeBadResponse, "", "unreadable 200 body: " + err.Error()
		}
		m := a.Metadata
		if !m.FromFallback {
			return recording.OutcomeUpstream, "", ""
		}
		switch m.FallbackSource {
		case "l1_cache":
			return recording.OutcomeCache, m.FallbackReason, ""
		case "excerpts":
			return recording.OutcomeExcerpts, m.FallbackReason, ""
		}
		return recording.OutcomeBadResponse, m.FallbackReason, "unknown fallback_source " + m.FallbackSource
	case http.StatusServiceUnavailable:
		return recording.OutcomeUnavailable, "", ""
	}
	return recording.OutcomeBadResponse, "", http.StatusText(status)
}

// CheckLoopback refuses a load target that is not on this machine's
// loopback interface: brownout generates real load, and load against
// somebody else's host is an attack, not a test.
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return &TargetError{Target: target, Reason: err.Error()}
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return &TargetError{Target: target, Reason: "the host is a name, not a loopback address; use 127.0.0.1 or [::1]"}
	}
	if !ip.IsLoopback() {
		return &TargetError{Target: target, Reason: ip.String() + " is not a loopback address (127.0.0.0/8 or ::1)"}
	}
	return nil
}

// TargetError explains why a load target was refused.
type TargetError struct {
	Target string
	Reason string
}

// Error says what was refused and why.
func (e *TargetError) Error() string {
	return "refusing to send load to " + e.Target + ": " + e.Reason + "; brownout only loads services on this machine"
}
