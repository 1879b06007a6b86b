//go:build soak

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// soakReplica is one `slabot run` process of the soak, started from the
// binary the test built, with its log appended to one file across restarts.
type soakReplica struct {
	name        string
	bin         string
	env         []string
	httpAddr    string
	metricsAddr string
	logPath     string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has exited
	expected bool          // the current process is being killed or stopped on purpose
	starts   int
	kills    int
	// unexpected lists every exit the soak did not cause.
	unexpected []string
}

func newSoakReplica(name, bin, logDir string, env []string) (*soakReplica, error) {
	httpAddr, err := soakFreeAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := soakFreeAddr()
	if err != nil {
		return nil, err
	}
	r := &soakReplica{name: name, bin: bin, httpAddr: httpAddr, metricsAddr: metricsAddr,
		logPath: filepath.Join(logDir, name+".log")}
	r.env = append(append([]string{}, env...), "SLABOT_HTTP_ADDR="+httpAddr, "SLABOT_METRICS_ADDR="+metricsAddr)
	return r, nil
}

// soakFreeAddr finds a free loopback port; a replica keeps it across restarts.
func soakFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (r *soakReplica) baseURL() string { return "http://" + r.httpAddr }

// start starts the process; it must not be running.
func (r *soakReplica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return fmt.Errorf("%s is already running", r.name)
	}
	logFile, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.starts++
	fmt.Fprintf(logFile, "=== soak: start #%d of %s at %s\n", r.starts, r.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(r.bin, "run")
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The replica dies with the test, even when the test is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited, r.expected = cmd, exited, false
	go func() {
		err := cmd.Wait()
		logFile.Close()
		r.mu.Lock()
		if !r.expected {
			r.unexpected = append(r.unexpected, fmt.Sprintf("%s exited by itself at %s: %v",
				r.name, time.Now().Format("15:04:05"), err))
		}
		if r.cmd == cmd {
			r.cmd = nil
		}
		r.mu.Unlock()
		close(exited)
	}()
	return nil
}

// clientID is the River client id of the running process, as `slabot run`
// names it (host and process id), or "".
func (r *soakReplica) clientID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return ""
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, r.cmd.Process.Pid)
}

// running reports whether the process is up.
func (r *soakReplica) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (r *soakReplica) kill() error {
	return r.signal(syscall.SIGKILL, 0)
}

// stop asks the process to shut down (SIGTERM) and kills it after grace.
func (r *soakReplica) stop(grace time.Duration) error {
	return r.signal(syscall.SIGTERM, grace)
}

func (r *soakReplica) signal(sig syscall.Signal, grace time.Duration) error {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	if cmd == nil {
		r.mu.Unlock()
		return nil
	}
	r.expected = true
	if sig == syscall.SIGKILL {
		r.kills++
	}
	r.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	if grace > 0 {
		select {
		case <-exited:
			return nil
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not exit after %v", r.name, sig)
	}
}

// restartIfDied starts the process again if it exited by itself, so that
// the soak goes on; the exit stays recorded.
func (r *soakReplica) restartIfDied() (bool, error) {
	r.mu.Lock()
	died := r.cmd == nil && !r.expected
	r.mu.Unlock()
	if !died {
		return false, nil
	}
	return true, r.start()
}

// ready asks /readyz once.
func (r *soakReplica) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.baseURL()+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// waitReady waits until /readyz answers 200 (database migrated and reachable,
// Socket Mode connected).
func (r *soakReplica) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if r.ready(ctx) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not ready within %v (log: %s)", r.name, within, r.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (r *soakReplica) unexpectedExits() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.unexpected...)
}
