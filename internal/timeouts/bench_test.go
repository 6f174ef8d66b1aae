package timeouts

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkLoopback measures what the timeouts add to one keep-alive
// request over a real loopback socket (where the deadlines are real):
// the same handler served bare and with Apply.
func BenchmarkLoopback(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) })
	for _, tc := range []struct {
		name string
		t    Timeouts
	}{{"bare", Timeouts{}}, {"timeouts", Timeouts{Header: 10e9, Read: 15e9, Write: 30e9, Idle: 120e9}}} {
		b.Run(tc.name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: h}
			tc.t.Apply(srv)
			go func() { _ = srv.Serve(l) }()
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			url := "http://" + l.Addr().String() + "/"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
