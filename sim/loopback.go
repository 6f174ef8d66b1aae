package sim

import (
	"net"
	"net/url"
)

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
