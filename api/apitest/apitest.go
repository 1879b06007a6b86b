// Package apitest holds what tests of slabot's HTTP listeners share.
package apitest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// SlowBody sends a POST's headers, then its JSON body a byte every 25 ms
// (declared bytes would take far longer than any limit) until the server
// answers or closes the connection. It returns the status line ("" when
// the server closed the connection without one) and how many body bytes
// had been sent by then.
func SlowBody(t testing.TB, addr, path string, headers map[string]string, declared int) (status string, sent int64) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, addr, declared)
	for k, v := range headers {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	req.WriteString("\r\n{")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	written.Store(1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for written.Load() < int64(declared) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			written.Add(1)
		}
	}()
	// 30 s is far beyond any limit here: it only ends the test of a
	// server that never cuts the body off.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server neither answered nor closed the connection while %d of %d body bytes trickled in", written.Load(), declared)
	}
	return strings.TrimSpace(line), written.Load()
}
