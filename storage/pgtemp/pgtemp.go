// Package pgtemp starts a throwaway PostgreSQL server from the machine's own
// binaries, in a directory of its own, listening only on a Unix socket
// there, and removes it all again. It is the one starter: `slabot demo`
// uses it so that trying slabot needs no database set up, and cmd/pgtemp
// (behind scripts/pg.sh) wraps make test, make bench and make run in one.
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

	bin      string
	asUser   string // "postgres" when we run as root
	uid, gid int    // asUser's, or -1
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

// maxConnections leaves room for parallel test packages, each with pools
// of its own, a bot's job workers, and the sessions each test binary's
// session pool keeps idle for the next test (storage/pgpool: up to 40).
const maxConnections = 300

// Start creates and starts a server in a new temporary directory, in
// memory when the machine has room there (parentDir).
func Start(ctx context.Context) (*Server, error) {
	dir, err := os.MkdirTemp(parentDir(), "slabot-pg.")
	if err != nil {
		return nil, fmt.Errorf("pgtemp: create a temporary directory: %w", err)
	}
	s, err := StartIn(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
	}
	return s, err
}

// StartIn starts a server in dir, creating the directory and the cluster
// when they do not exist yet, and the "slabot" database when it is missing;
// a cluster already in dir is started again with its data.
func StartIn(ctx context.Context, dir string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtemp: create %s: %w", dir, err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("pgtemp: %w", err)
	}
	s := &Server{Dir: dir, bin: bin, uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: it runs as postgres, created
		// when the machine has no such user.
		s.asUser = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			if out, aerr := exec.CommandContext(ctx, "useradd", "--system", "--no-create-home", "--shell",
				"/usr/sbin/nologin", "postgres").CombinedOutput(); aerr != nil {
				return nil, fmt.Errorf("pgtemp: running as root needs a postgres user to run the server, and creating one failed: %v: %s", aerr, out)
			}
			if u, err = user.Lookup("postgres"); err != nil {
				return nil, fmt.Errorf("pgtemp: %w", err)
			}
		}
		fmt.Sscan(u.Uid, &s.uid)
		fmt.Sscan(u.Gid, &s.gid)
		if err := os.Chown(dir, s.uid, s.gid); err != nil {
			return nil, fmt.Errorf("pgtemp: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		if err := s.newCluster(ctx, data); err != nil {
			return nil, err
		}
	}
	if err := s.Resume(ctx); err != nil {
		return nil, err
	}
	s.URL = "postgres://postgres@/slabot?host=" + dir + "&sslmode=disable"
	if err := s.run(ctx, "createdb", "-h", dir, "-U", "postgres", "slabot"); err != nil &&
		!strings.Contains(err.Error(), "already exists") {
		return nil, err
	}
	return s, nil
}

// Attach returns the server whose directory is dir, to stop it.
func Attach(dir string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin, URL: "postgres://postgres@/slabot?host=" + dir + "&sslmode=disable"}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
	}
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

// throwawayDurability trades crash safety for speed, which only a server
// whose data is thrown away may do: nothing waits for the disk (fsync=off),
// a commit returns before its WAL is written (synchronous_commit=off), and
// pages are not copied whole into the WAL after a checkpoint
// (full_page_writes=off). A clean stop, Pause included, still writes
// everything out; only a crash of the machine (or of PostgreSQL itself, for
// the last few commits) loses data. Tests, the demo and make run use the
// server; none of them keeps its data.
const throwawayDurability = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"

// Resume starts a paused server again with the same data and address.
func (s *Server) Resume(ctx context.Context) error {
	return s.run(ctx, "pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-l", filepath.Join(s.Dir, "server.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("%s -k %s -c listen_addresses= -c max_connections=%d", throwawayDurability, s.Dir, maxConnections), "start")
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
