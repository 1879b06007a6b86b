package pgtemp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// initdbArgs make a cluster; a cluster made with them by one installation of
// PostgreSQL is the same every time.
var initdbArgs = []string{"-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"}

// newCluster fills data with a fresh cluster. initdb costs about two
// CPU-seconds, a third of a server's start, and make test starts three:
// the first one made is kept in the user's cache directory and later ones
// are copies of it. The cache is a help, never a need: when it cannot be
// read or written, initdb makes the cluster as before.
func (s *Server) newCluster(ctx context.Context, data string) error {
	cached := s.cachedCluster()
	if cached != "" {
		if err := copyTree(cached, data, s.uid, s.gid); err == nil {
			return nil
		}
		// A kept cluster that cannot be copied is thrown away, with what
		// was copied of it, and replaced by the one initdb makes now.
		os.RemoveAll(data)
		os.RemoveAll(filepath.Dir(cached))
	}
	if err := s.run(ctx, "initdb", append([]string{"-D", data}, initdbArgs...)...); err != nil {
		return err
	}
	s.keepCluster(data)
	return nil
}

// clusterCacheDir is where a fresh cluster of this installation of
// PostgreSQL is kept ("" when there is no cache directory): its name
// changes with the binaries' place, the postgres binary's size and time,
// initdb's arguments, and the time zone initdb writes into the cluster's
// settings (from TZ, else the machine's /etc/localtime).
func (s *Server) clusterCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	st, err := os.Stat(filepath.Join(s.bin, "postgres"))
	if err != nil {
		return ""
	}
	localtime, _ := filepath.EvalSymlinks("/etc/localtime")
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%d\n%s\n%s\n%s", s.bin, st.Size(), st.ModTime().UnixNano(), strings.Join(initdbArgs, " "),
		os.Getenv("TZ"), localtime)
	return filepath.Join(base, "slabot", "pgtemp", hex.EncodeToString(h.Sum(nil))[:16])
}

// cachedCluster returns the kept cluster's data directory, or "".
func (s *Server) cachedCluster() string {
	dir := s.clusterCacheDir()
	if dir == "" {
		return ""
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		return ""
	}
	return data
}

// keepCluster copies a fresh cluster into the cache, under a name of its
// own and then renamed into place, so that a reader never sees half of one.
func (s *Server) keepCluster(data string) {
	dir := s.clusterCacheDir()
	if dir == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return
	}
	building, err := os.MkdirTemp(filepath.Dir(dir), "building.")
	if err != nil {
		return
	}
	defer os.RemoveAll(building)
	if err := copyTree(data, filepath.Join(building, "data"), -1, -1); err != nil {
		return
	}
	// Another process may have kept one first; either is as good.
	_ = os.Rename(building, dir)
}

// copyTree copies the directory from to to (which must not exist), files,
// directories and their permissions, owned by uid and gid when those are
// not -1.
func copyTree(from, to string, uid, gid int) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("pgtemp: %s is neither a file nor a directory", path)
		}
		if uid >= 0 {
			return os.Lchown(target, uid, gid)
		}
		return nil
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
