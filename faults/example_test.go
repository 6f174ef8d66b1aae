package faults_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"brownout/faults"
)

const chatRequest = `{"model":"tgi","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`

// A Server is an http.Handler, so httptest serves it as a test double for
// the HuggingFace inference API: here the model is loading for the first
// two calls, then answers.
func Example_testDouble() {
	srv, err := faults.New(faults.Config{Seed: 1, Phases: []faults.Phase{{
		Name:   "cold-start",
		Faults: []faults.FaultSpec{{Kind: "status", Body: "model_loading", First: 2}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for range 3 {
		resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatRequest))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.Contains(string(body), `"finish_reason":"length"`))
	}
	// Output:
	// 503 false
	// 503 false
	// 200 true
}

// RoundTripper serves the same answers without a socket, for clients under
// test in a testing/synctest bubble; socket faults become the errors a real
// transport returns.
func ExampleServer_RoundTripper() {
	srv, err := faults.New(faults.Config{Phases: []faults.Phase{{
		Name:   "flaky",
		Faults: []faults.FaultSpec{{Kind: "reset", Every: 2}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client := &http.Client{Transport: srv.RoundTripper()}

	for range 2 {
		resp, err := client.Post("http://hf.invalid/v1/chat/completions", "application/json", strings.NewReader(chatRequest))
		if err != nil {
			fmt.Println("error:", strings.Contains(err.Error(), "connection reset by peer"))
			continue
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 200
	// error: true
}
