package sim

import "testing"

func TestCheckLoopback(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8000/assistant/query": true,
		"http://127.9.9.9/":                     true,
		"http://[::1]:80/":                      true,
		"http://localhost:1/":                   true,
		"http://10.0.0.1/":                      false,
		"http://192.168.1.1/":                   false,
		"http://example.com/":                   false,
		"http://8.8.8.8/":                       false,
	} {
		if err := CheckLoopback(target); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", target, err, ok)
		}
	}
}
