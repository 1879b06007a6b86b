// Package pgtemp starts a throwaway PostgreSQL server from the machine's own
// binaries, in a temporary directory, listening only on a Unix socket there,
// and removes it all again. `slabot demo` uses it so that trying slabot
// needs no database set up; scripts/pg.sh does the same for make.
package pgtemp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
)

// Server is a running throwaway PostgreSQL.
type Server struct {
	// URL connects to its "slabot" database.
	URL string
	// Dir holds the data, the socket and the log.
	Dir string

	bin    string
	asUser string // "postgres" when we run as root
}

// ErrNoBinaries means initdb and pg_ctl were not found.
var ErrNoBinaries = errors.New("PostgreSQL's initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin; " +
	"install the server (Debian: apt-get install postgresql) or set DATABASE_URL")

func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

// Start creates and starts a server in a new temporary directory.
func Start(ctx context.Context) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "slabot-demo-pg.")
	if err != nil {
		return nil, fmt.Errorf("pgtemp: create a temporary directory: %w", err)
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		s.asUser = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtemp: running as root needs a postgres user to run the server: %w", err)
		}
		var uid, gid int
		fmt.Sscan(u.Uid, &uid)
		fmt.Sscan(u.Gid, &gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtemp: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	if err := s.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.Resume(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.run(ctx, "createdb", "-h", dir, "-U", "postgres", "slabot"); err != nil {
		s.Stop()
		return nil, err
	}
	s.URL = "postgres://postgres@/slabot?host=" + dir + "&sslmode=disable"
	return s, nil
}

func (s *Server) run(ctx context.Context, prog string, args ...string) error {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.asUser != "" {
		quoted := make([]string, 0, len(args)+1)
		for _, a := range append([]string{path}, args...) {
			quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
		}
		cmd = exec.CommandContext(ctx, "su", s.asUser, "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtemp: %s failed: %w\n%s", prog, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Pause stops the server as an administrator restarting it would
// (pg_ctl -m fast: every session is ended), keeping its data for Resume.
func (s *Server) Pause(ctx context.Context) error {
	return s.run(ctx, "pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "fast", "-w", "stop")
}

// Resume starts a paused server again with the same data and address.
func (s *Server) Resume(ctx context.Context) error {
	return s.run(ctx, "pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-l", filepath.Join(s.Dir, "server.log"), "-w", "-t", "60",
		"-o", "-F -k "+s.Dir+" -c listen_addresses= -c max_connections=100", "start")
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	var err error
	if _, statErr := os.Stat(filepath.Join(s.Dir, "data", "postmaster.pid")); statErr == nil {
		err = s.run(context.Background(), "pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "fast", "-w", "stop")
	}
	if rmErr := os.RemoveAll(s.Dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}
