package tlshttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestShutdownWaitsForInFlightRequests starts a slow request over HTTP/1.1
// and one over HTTP/2, shuts the server down while both handlers run, and
// checks that Shutdown waits for both, that both complete, and that the
// server then takes no new connections.
func TestShutdownWaitsForInFlightRequests(t *testing.T) {
	entered := make(chan string, 2)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.Proto
		<-release
		io.WriteString(w, "finished over "+r.Proto)
	})
	ts := startServer(t, serverConfig(), h, nil)

	type result struct {
		body string
		err  error
	}
	results := make(chan result, 2)
	for _, major := range []int{1, 2} {
		client := &http.Client{Transport: goTransport(major, 0)}
		go func() {
			resp, err := client.Get(ts.url + "/slow")
			if err != nil {
				results <- result{err: err}
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- result{string(body), err}
		}()
	}
	for range 2 {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the handlers did not start")
		}
	}

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdown <- ts.srv.Shutdown(ctx)
	}()
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while two requests were in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := (&http.Client{Transport: goTransport(1, 0), Timeout: 5 * time.Second}).Get(ts.url + "/"); err == nil {
		t.Fatal("a new request succeeded during Shutdown")
	}

	close(release)
	got := map[string]bool{}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("an in-flight request failed during Shutdown: %v", r.err)
		}
		got[r.body] = true
	}
	if !got["finished over HTTP/1.1"] || !got["finished over HTTP/2.0"] {
		t.Fatalf("responses %v, want one over HTTP/1.1 and one over HTTP/2.0", got)
	}
	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the requests finished")
	}
	select {
	case err := <-ts.served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve returned %v, want http.ErrServerClosed", err)
		}
		ts.served <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
}

// TestShutdownHonoursItsContext: an HTTP/2 request that does not finish
// must not hold Shutdown beyond its context.
func TestShutdownHonoursItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	ts := startServer(t, serverConfig(), h, nil)
	go (&http.Client{Transport: goTransport(2, 0)}).Get(ts.url + "/stuck")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stuck HTTP/2 request: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v with a 300 ms context", d)
	}
}
