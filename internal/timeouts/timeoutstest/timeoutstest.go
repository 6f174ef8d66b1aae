// Package timeoutstest plays slow clients against a server in tests, as
// net/http/httptest plays requests: one implementation of the slowloris
// client that every server's timeout test uses.
package timeoutstest

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// Slowloris connects to addr, sends the headers of a POST to path with a
// body of size bytes, then sends the body one byte per tick. It returns
// how many body bytes it sent before the server cut the connection (size
// when it never did). The tick paces the client; the test waits on the
// server's deadline, not on a sleep.
func Slowloris(t testing.TB, addr, path string, size int, tick time.Duration) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, size); err != nil {
		t.Fatal(err)
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for sent := range size {
		<-ticker.C
		if _, err := conn.Write([]byte{' '}); err != nil {
			return sent
		}
	}
	return size
}
