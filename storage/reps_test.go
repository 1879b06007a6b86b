package storage_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// repHistoryRow is one row of rep_events as stored.
type repHistoryRow struct {
	ID                     int64
	Rep, Kind, Actor, Note string
	At, Until              time.Time
}

// repHistory reads the reps' availability history straight from the table,
// in the order it was written.
func repHistory(t *testing.T, db *storage.DB) []repHistoryRow {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT id, rep_email, kind, actor, note, at, until FROM rep_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []repHistoryRow
	for rows.Next() {
		var r repHistoryRow
		var until *time.Time
		if err := rows.Scan(&r.ID, &r.Rep, &r.Kind, &r.Actor, &r.Note, &r.At, &until); err != nil {
			t.Fatal(err)
		}
		if until != nil {
			r.Until = until.UTC()
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// newRepsDB is a migrated database with one team of reps.
func newRepsDB(t *testing.T, reps ...string) *storage.DB {
	t.Helper()
	db := storagetest.NewDB(t)
	if err := db.SyncTeams(context.Background(), []engine.Team{{Name: "sdr-east", Manager: "maria@example.com", Reps: reps}}); err != nil {
		t.Fatal(err)
	}
	return db
}

// recordedAt checks that a row was stamped with the engine's clock, which
// a test sets apart from the database's.
func recordedAt(t *testing.T, r repHistoryRow, clock time.Time) {
	t.Helper()
	if !r.At.Equal(clock) {
		t.Errorf("row %d was recorded at %v, not at the engine's time %v", r.ID, r.At, clock)
	}
}

// recordedNow checks that a row written with the database's clock was
// written between before and now.
func recordedNow(t *testing.T, r repHistoryRow, before time.Time) {
	t.Helper()
	// The database's clock and ours are the same machine's; allow for the
	// rounding to microseconds.
	if r.At.Before(before.Add(-time.Second)) || r.At.After(time.Now().Add(time.Second)) {
		t.Errorf("row %d was recorded at %v, not now (%v)", r.ID, r.At, before)
	}
}

func TestEveryChangeOfARepsStatusIsOnTheRecordOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newRepsDB(t, "ana@example.com", "bo@example.com", "cy@example.com")

	t.Run("DeactivationByTheDirectorySync", func(t *testing.T) {
		clock := time.Date(2026, 11, 16, 8, 30, 0, 0, time.UTC)
		// Several replicas see the deactivation at once: one acts.
		var wg sync.WaitGroup
		var did atomic.Int32
		for range 8 {
			wg.Go(func() {
				err := db.InTx(ctx, func(tx engine.Tx) error {
					ok, err := tx.DeactivateRep(ctx, "Ana@Example.com", clock)
					if ok {
						did.Add(1)
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if did.Load() != 1 {
			t.Errorf("%d calls deactivated ana, want 1", did.Load())
		}
		h := repHistory(t, db)
		if len(h) != 1 {
			t.Fatalf("history %+v, want one row", h)
		}
		if r := h[0]; r.Rep != "ana@example.com" || r.Kind != "deactivated" || r.Actor != "directory" || !r.Until.IsZero() || r.Note == "" {
			t.Errorf("row %+v, want ana deactivated by the directory sync, with a note and no return date", r)
		}
		recordedAt(t, h[0], clock)
	})

	t.Run("ReactivationByTheDirectorySync", func(t *testing.T) {
		clock := time.Date(2026, 11, 17, 14, 5, 0, 0, time.UTC)
		back, err := db.ReactivateRep(ctx, "ana@example.com", clock)
		if err != nil || !back {
			t.Fatalf("ReactivateRep = %v, %v; want true", back, err)
		}
		again, err := db.ReactivateRep(ctx, "ana@example.com", clock.Add(time.Minute))
		if err != nil || again {
			t.Errorf("ReactivateRep of an active rep = %v, %v; want false", again, err)
		}
		h := repHistory(t, db)
		if len(h) != 2 {
			t.Fatalf("history %+v, want two rows", h)
		}
		if r := h[1]; r.Rep != "ana@example.com" || r.Kind != "reactivated" || r.Actor != "directory" || r.Note == "" {
			t.Errorf("row %+v, want ana reactivated by the directory sync", r)
		}
		recordedAt(t, h[1], clock)
		if rep, _ := db.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
			t.Errorf("ana is %s", rep.Status)
		}
	})

	t.Run("UpdateRepRecordsAChangeOfStatusWithNoActor", func(t *testing.T) {
		before := time.Now()
		until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		steps := []engine.Rep{
			{Email: "bo@example.com", Name: "Bo", Status: engine.RepAway, AwayUntil: until}, // away
			{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepAway, AwayUntil: until},
			{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepAway},                             // the date changes
			{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepActive},                           // back
			{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepInactive},                         // deactivated
			{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepActive, TimeZone: "Europe/Paris"}, // reactivated
		}
		for _, r := range steps {
			if err := db.UpdateRep(ctx, &r); err != nil {
				t.Fatal(err)
			}
		}
		err := db.UpdateRep(ctx, &engine.Rep{Email: "nobody@example.com", Status: engine.RepAway})
		if engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("UpdateRep of an unknown rep: %v, want %s", err, engine.ENOTFOUND)
		}
		h := repHistory(t, db)[2:]
		var got []string
		for _, r := range h {
			got = append(got, r.Rep+" "+r.Kind+" "+r.Until.Format(time.DateOnly)+" by '"+r.Actor+"'")
			recordedNow(t, r, before)
		}
		want := []string{
			"bo@example.com away 2026-12-01 by ''",
			"bo@example.com away 0001-01-01 by ''",
			"bo@example.com back 0001-01-01 by ''",
			"bo@example.com deactivated 0001-01-01 by ''",
			"bo@example.com reactivated 0001-01-01 by ''",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if rep, _ := db.RepByEmail(ctx, "bo@example.com"); rep.Name != "Bo Berg" || rep.TimeZone != "Europe/Paris" || rep.Status != engine.RepActive {
			t.Errorf("bo is %+v after the updates", rep)
		}
	})

	t.Run("AppendRepEventKeepsWhoWhenAndUntil", func(t *testing.T) {
		at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
		until := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		e := &engine.RepEvent{RepEmail: "Cy@Example.com", Kind: engine.RepEventAway, Actor: "maria@example.com", At: at, Until: until, Note: "conference"}
		inTx(t, db, func(tx engine.Tx) error { return tx.AppendRepEvent(ctx, e) })
		h := repHistory(t, db)
		want := repHistoryRow{ID: e.ID, Rep: "cy@example.com", Kind: "away", Actor: "maria@example.com", Note: "conference", At: at, Until: until}
		if diff := cmp.Diff(want, h[len(h)-1]); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
		err := db.InTx(ctx, func(tx engine.Tx) error {
			return tx.AppendRepEvent(ctx, &engine.RepEvent{RepEmail: "nobody@example.com", Kind: engine.RepEventBack, At: at})
		})
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("history of an unknown rep: %v, want %s", err, engine.EINVALID)
		}
		err = db.InTx(ctx, func(tx engine.Tx) error {
			return tx.AppendRepEvent(ctx, &engine.RepEvent{RepEmail: "cy@example.com", Kind: "promoted", At: at})
		})
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("an unknown kind of change: %v, want %s", err, engine.EINVALID)
		}
	})
}

func TestRepHistoryCannotBeRewritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newRepsDB(t, "ana@example.com")
	if _, err := db.DeactivateRep(ctx, "ana@example.com", time.Date(2026, 11, 16, 8, 30, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE rep_events SET actor = 'somebody else'`,
		`UPDATE rep_events SET at = at - interval '1 week'`,
		`DELETE FROM rep_events`,
		`TRUNCATE rep_events`,
	} {
		_, err := db.Pool().Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error %v, want a refusal: the history is append-only", stmt, err)
		}
	}
	h := repHistory(t, db)
	if len(h) != 1 || h[0].Actor != "directory" {
		t.Errorf("history after the attempts: %+v, want the one row as written", h)
	}
}

func TestRepEventsBearingOnAPeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newRepsDB(t, "ana@example.com", "bo@example.com", "cy@example.com")
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	events := []engine.RepEvent{
		{RepEmail: "ana@example.com", Kind: engine.RepEventAway, At: day(2, 9)},       // 0: over before the week
		{RepEmail: "ana@example.com", Kind: engine.RepEventBack, At: day(6, 9)},       // 1: over before the week
		{RepEmail: "ana@example.com", Kind: engine.RepEventAway, At: day(18, 9)},      // 2
		{RepEmail: "bo@example.com", Kind: engine.RepEventDeactivated, At: day(1, 9)}, // 3: still inactive
		{RepEmail: "cy@example.com", Kind: engine.RepEventAway, At: day(10, 9)},       // 4: back in the week
		{RepEmail: "cy@example.com", Kind: engine.RepEventBack, At: day(17, 9)},       // 5
		{RepEmail: "cy@example.com", Kind: engine.RepEventAway, At: day(24, 9)},       // 6: after the week
	}
	inTx(t, db, func(tx engine.Tx) error {
		// Written out of order: they come back by time.
		for _, i := range []int{6, 5, 4, 3, 2, 1, 0} {
			if err := tx.AppendRepEvent(ctx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	var got []engine.RepEvent
	inTx(t, db, func(tx engine.Tx) error {
		var err error
		got, err = tx.RepEvents(ctx, day(16, 0), day(23, 0))
		return err
	})
	var want []engine.RepEvent
	for _, i := range []int{3, 4, 5, 2} {
		want = append(want, events[i])
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestMigrationCarriesTheRepsStatusOver upgrades a database of the last
// release before the history (migrations up to 0003) holding reps away and
// inactive, and checks that the history starts from their status.
func TestMigrationCarriesTheRepsStatusOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	pool := db.Pool()
	migrateUpTo(t, db, 3) // the schema the release before River wrote
	since := time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO teams (name) VALUES ('sdr-east');
		INSERT INTO reps (email, team, status, away_until, updated_at) VALUES
			('ana@example.com', 'sdr-east', 'active', NULL, '2026-11-10 15:00Z'),
			('bo@example.com', 'sdr-east', 'away', '2026-12-01 00:00Z', '2026-11-10 15:00Z'),
			('cy@example.com', 'sdr-east', 'away', NULL, '2026-11-10 15:00Z'),
			('dee@example.com', NULL, 'inactive', NULL, '2026-11-10 15:00Z')`); err != nil {
		t.Fatal(err)
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, m := range applied {
		versions = append(versions, m.Version)
	}
	if len(versions) == 0 || versions[0] <= 3 {
		t.Errorf("the upgrade applied %v, want only what came after 0003", versions)
	}

	h := repHistory(t, db)
	var got []repHistoryRow
	for _, r := range h {
		if r.Note == "" {
			t.Errorf("carried-over row %d does not say it was carried over", r.ID)
		}
		r.ID, r.Note = 0, ""
		got = append(got, r)
	}
	want := []repHistoryRow{
		{Rep: "bo@example.com", Kind: "away", At: since, Until: until},
		{Rep: "cy@example.com", Kind: "away", At: since},
		{Rep: "dee@example.com", Kind: "deactivated", At: since},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("carried-over history (-want +got):\n%s", diff)
	}

	// The report of the week the upgrade ran in lists them, and so does
	// the report of a later week while they are still away.
	for _, week := range []engine.Period{engine.WeekPeriod(2026, 46, time.UTC), engine.WeekPeriod(2026, 50, time.UTC)} {
		var history []engine.RepEvent
		inTx(t, db, func(tx engine.Tx) error {
			history, err = tx.RepEvents(ctx, week.Start, week.End)
			return err
		})
		var away []string
		for _, ab := range engine.RepAbsences(history, week, week.End) {
			away = append(away, ab.Email+" "+string(ab.Status))
		}
		wantAway := []string{"bo@example.com away", "cy@example.com away", "dee@example.com inactive"}
		if week.Start.After(until) {
			wantAway = wantAway[1:] // bo was back on his return date
		}
		if diff := cmp.Diff(wantAway, away); diff != "" {
			t.Errorf("%s: away (-want +got):\n%s", week.Label, diff)
		}
	}
}
