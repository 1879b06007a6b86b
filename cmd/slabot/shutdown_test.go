package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// A client that holds a request open (a body that never ends, on a route
// without limits) cannot hold up slabot's stop: after the grace period its
// connection is closed and shutdown returns.
func TestShutdownClosesARequestStillHeld(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		_, _ = io.Copy(io.Discard, r.Body) // the client never ends it
	})
	app := &App{Logger: slog.New(slog.DiscardHandler),
		HTTP: &http.Server{Handler: held}, Metrics: &http.Server{Handler: http.NotFoundHandler()}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.HTTP.Serve(l) }()

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{")
	<-entered

	done := make(chan struct{})
	go func() { app.shutdown(100 * time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // only ends a test whose shutdown waits for ever
		t.Fatal("shutdown is still waiting for the held request")
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the held connection is still open after shutdown")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("the held connection was not closed")
	}
}
