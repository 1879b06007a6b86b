package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

const importPolicy = `
teams:
  - name: sdr
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    on_breach: [notify_manager]
`

// importEnv is a migrated database, a policy file and a CSV file for one test.
type importEnv struct {
	db     *storage.DB
	dbURL  string
	policy string
	dir    string
}

func newImportEnv(t *testing.T) *importEnv {
	t.Helper()
	dbURL := storagetest.NewDatabase(t)
	db, err := storage.Open(context.Background(), dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	dir := t.TempDir()
	policy := filepath.Join(dir, "slabot.yaml")
	if err := os.WriteFile(policy, []byte(importPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	return &importEnv{db: db, dbURL: dbURL, policy: policy, dir: dir}
}

func (e *importEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SLABOT_TEST_SUBPROCESS=1", "DATABASE_URL="+e.dbURL, "SLABOT_POLICY_FILE="+e.policy, "SLABOT_LOG_LEVEL=error")
	return cmd
}

func (e *importEnv) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writeCSV writes valid rows and, every hundredth line, a bad one.
func (e *importEnv) writeCSV(t *testing.T, rows int) (path string, valid int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("external_id,source,contact.name,contact.email,company.name,score,context.form.Budget,context.activity.pages\n")
	for i := range rows {
		if i%100 == 50 {
			fmt.Fprintf(&b, "bad-%d,webinar,No Email,not-an-email,,high,,\n", i)
			continue
		}
		valid++
		fmt.Fprintf(&b, "csv-%d,webinar,Person %d,person%d@example.test,Co %d,%d,$%dk,/pricing;/docs\n", i, i, i, i, i%100, i)
	}
	path = filepath.Join(e.dir, "leads.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, valid
}

func TestImport(t *testing.T) {
	t.Parallel()
	t.Run("GoodRowsAreKeptBadRowsReportedWithTheirLine", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(t)
		path, valid := e.writeCSV(t, 60) // one bad row, on line 52
		var out, errOut bytes.Buffer
		cmd := e.command("import", path)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("exit code %d (%v), want 1 because a row was rejected", code, err)
		}
		if !strings.Contains(errOut.String(), "line 52: skipped") || !strings.Contains(errOut.String(), "contact.email") {
			t.Errorf("stderr does not name the bad row's line and field:\n%s", errOut.String())
		}
		want := fmt.Sprintf("%d created, 0 repeated, 0 linked to an open lead, 1 rejected", valid)
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary %q does not say %q", out.String(), want)
		}
		if n := e.count(t, `SELECT count(*) FROM leads`); n != valid {
			t.Errorf("%d leads stored, want %d", n, valid)
		}
		var budget string
		_ = e.db.Pool().QueryRow(context.Background(), `SELECT context->'form'->>'Budget' FROM leads WHERE external_id = 'csv-7'`).Scan(&budget)
		if budget != "$7k" {
			t.Errorf("form answer Budget = %q, want $7k", budget)
		}

		again := e.command("import", path)
		var out2 bytes.Buffer
		again.Stdout = &out2
		_ = again.Run()
		want = fmt.Sprintf("0 created, %d repeated", valid)
		if !strings.Contains(out2.String(), want) {
			t.Errorf("second run summary %q does not say %q", out2.String(), want)
		}
	})

	t.Run("KilledMidwayAndRunAgainKeepsEveryValidRowExactlyOnce", func(t *testing.T) {
		t.Parallel()
		e := newImportEnv(t)
		// Long enough to be killed in the middle of (it is killed once 20
		// leads are in, and goes on for the moment the kill takes: a few
		// rows), short enough that the rerun, which imports the rest, is
		// not most of the package's time.
		path, valid := e.writeCSV(t, 200)
		cmd := e.command("import", path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for e.count(t, `SELECT count(*) FROM leads`) < 20 {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("the import did not start within a minute")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		partial := e.count(t, `SELECT count(*) FROM leads`)
		t.Logf("killed with %d of %d leads in", partial, valid)
		if partial >= valid {
			t.Fatalf("the import finished (%d leads) before it could be killed; make the file larger", partial)
		}
		again := e.command("import", path)
		var out bytes.Buffer
		again.Stdout = &out
		_ = again.Run()
		if n := e.count(t, `SELECT count(*) FROM leads`); n != valid {
			t.Errorf("after the rerun %d leads are stored, want every valid row once: %d", n, valid)
		}
		if n := e.count(t, `SELECT count(DISTINCT external_id) FROM leads`); n != valid {
			t.Errorf("%d distinct external ids, want %d", n, valid)
		}
		if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify.handoff'`); n != valid {
			t.Errorf("%d hand-off DMs queued, want one per lead: %d", n, valid)
		}
		if !strings.Contains(out.String(), "repeated") {
			t.Errorf("rerun summary: %s", out.String())
		}
	})
}

func TestImportCleansRowsRatherThanLosingThem(t *testing.T) {
	t.Parallel()
	e := newImportEnv(t)
	long := strings.Repeat("ü", 1000)
	csv := "external_id,contact.name,contact.email,company.name,contact.title,score,context.form.Bud\x00get,context.activity.pages\n" +
		"imp\x00-1,Da\x00na\a,dana@acme.test,Acme," + long + ",870,$50k\x00,/a;/b\n" +
		"imp-2,Caf\xe9,,Bistro,,,,\n" +
		"\x00,Nobody,nobody@acme.test,,,,,\n" +
		"imp-3,Nan,nan@acme.test,,,NaN,,\n"
	path := filepath.Join(e.dir, "hostile.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := e.command("import", path)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1 for the row without an id", code)
	}
	for _, want := range []string{"3 created, 0 repeated, 0 linked to an open lead, 1 rejected", "3 imported rows had parts cleaned"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout does not say %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{
		"line 2: external_id: control characters were removed",
		"line 2: contact.name: control characters were removed",
		"line 2: contact.title: 1000 characters; cut to the first 200",
		"line 2: score: 870 is outside 0–100",
		"line 2: context.form.Budget: control characters were removed",
		"line 3: contact.name: bytes that are not UTF-8 were replaced",
		"line 4: skipped: external_id",
		`line 5: score: "NaN" is not a finite number; it was left out`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut.String())
		}
	}
	var name, budget, title string
	err := e.db.Pool().QueryRow(context.Background(),
		`SELECT contact->>'name', context->'form'->>'Budget', contact->>'title' FROM leads WHERE external_id = 'imp-1'`).Scan(&name, &budget, &title)
	if err != nil {
		t.Fatal(err)
	}
	if name != "Dana" || budget != "$50k" || len([]rune(title)) != 200 {
		t.Errorf("stored name %q, budget %q, a title of %d characters", name, budget, len([]rune(title)))
	}
	var cafe string
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT contact->>'name' FROM leads WHERE external_id = 'imp-2'`).Scan(&cafe); err != nil || cafe != "Caf\uFFFD" {
		t.Errorf("stored name %q (%v), want Caf\uFFFD", cafe, err)
	}
}
