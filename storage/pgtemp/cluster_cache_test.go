package pgtemp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// startAndQuery starts a server, checks it answers, and stops it.
func startAndQuery(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	srv, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

// One story, so that it makes one cluster with initdb, not two: a kept
// cluster that cannot be copied is passed over and replaced by the one
// initdb makes, and the next server starts from a copy of that.
func TestAClusterIsKeptAndLaterServersStartFromACopy(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	bin, err := findBin()
	if err != nil {
		t.Fatal(err)
	}
	probe := &Server{bin: bin}
	if probe.cachedCluster() != "" {
		t.Fatal("a new cache directory already holds a cluster")
	}
	// A kept cluster with something in it that is neither a file nor a
	// directory, which copyTree refuses.
	kept := filepath.Join(probe.clusterCacheDir(), "data")
	if err := os.MkdirAll(kept, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kept, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere", filepath.Join(kept, "a-link")); err != nil {
		t.Fatal(err)
	}
	if probe.cachedCluster() != kept {
		t.Fatalf("cachedCluster() = %q; want %q", probe.cachedCluster(), kept)
	}
	startAndQuery(t)
	// It was replaced by the cluster initdb made instead.
	if _, err := os.Lstat(filepath.Join(kept, "a-link")); !os.IsNotExist(err) {
		t.Errorf("the broken kept cluster is still kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kept, "global", "pg_control")); err != nil {
		t.Fatalf("the cluster made instead was not kept: %v", err)
	}

	// The next server is a copy: mark the kept cluster and find the mark.
	mark := filepath.Join(kept, "kept-by-the-cache")
	if err := os.WriteFile(mark, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if _, err := os.Stat(filepath.Join(srv.Dir, "data", "kept-by-the-cache")); err != nil {
		t.Errorf("the second server's cluster is not a copy of the kept one: %v", err)
	}
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatalf("a server started from the kept cluster does not answer: %v", err)
	}
	conn.Close(ctx)
}

// initdb writes the time zone it finds (TZ first) into the cluster's
// settings: a cluster kept under one zone is not the one for another.
func TestAClusterIsKeptPerTimeZone(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	bin, err := findBin()
	if err != nil {
		t.Fatal(err)
	}
	probe := &Server{bin: bin}
	t.Setenv("TZ", "America/New_York")
	newYork := probe.clusterCacheDir()
	t.Setenv("TZ", "Asia/Tokyo")
	if tokyo := probe.clusterCacheDir(); tokyo == newYork {
		t.Errorf("clusters made under TZ=America/New_York and TZ=Asia/Tokyo are kept in one place, %s", tokyo)
	}
}
