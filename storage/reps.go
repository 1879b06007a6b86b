package storage

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// SyncTeams makes the teams and reps tables match the policy file: new teams
// and reps are added, changed managers, channels and round-robin order are
// updated, and reps no longer listed leave their team (their history stays).
// A rep's status, Slack id and time zone are kept: they come from Slack and
// from the reps themselves, not from the file.
func (db *DB) SyncTeams(ctx context.Context, teams []engine.Team) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		listed := []string{}
		for _, t := range teams {
			_, err := tx.Exec(ctx, `INSERT INTO teams (name, manager_email, escalation_channel) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET manager_email = $2, escalation_channel = $3, updated_at = now()`,
				t.Name, strings.ToLower(t.Manager), t.EscalationChannel)
			if err != nil {
				return mapError(err, "save team %q", t.Name)
			}
			for i, email := range t.Reps {
				email = strings.ToLower(email)
				listed = append(listed, email)
				_, err := tx.Exec(ctx, `INSERT INTO reps (email, team, position) VALUES ($1, $2, $3)
					ON CONFLICT (email) DO UPDATE SET team = $2, position = $3, updated_at = now()`,
					email, t.Name, i)
				if err != nil {
					return mapError(err, "save rep %q", email)
				}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE reps SET team = NULL, updated_at = now()
			WHERE team IS NOT NULL AND NOT (email = ANY($1))`, listed)
		return mapError(err, "remove reps no longer in the policy")
	})
}

const repColumns = `id, email, name, COALESCE(team, ''), time_zone, status, away_until`

func scanRep(row pgx.Row) (engine.Rep, error) {
	var r engine.Rep
	var status string
	var away *time.Time
	err := row.Scan(&r.ID, &r.Email, &r.Name, &r.Team, &r.TimeZone, &status, &away)
	r.Status = engine.RepStatus(status)
	r.AwayUntil = timeOrZero(away)
	return r, err
}

// RepByEmail finds a rep by email, in any case.
func (q *queries) RepByEmail(ctx context.Context, email string) (*engine.Rep, error) {
	r, err := scanRep(q.db.QueryRow(ctx, `SELECT `+repColumns+` FROM reps WHERE email = lower($1)`, email))
	if err != nil {
		return nil, mapError(err, "find rep %q", email)
	}
	return &r, nil
}

// Reps lists every rep, by team and round-robin order.
func (q *queries) Reps(ctx context.Context) ([]engine.Rep, error) {
	rows, err := q.db.Query(ctx, `SELECT `+repColumns+` FROM reps ORDER BY team NULLS LAST, position, id`)
	if err != nil {
		return nil, mapError(err, "list reps")
	}
	reps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.Rep, error) { return scanRep(row) })
	return reps, mapError(err, "list reps")
}

// TeamReps lists a team's reps in round-robin order.
func (q *queries) TeamReps(ctx context.Context, team string) ([]engine.Rep, error) {
	rows, err := q.db.Query(ctx, `SELECT `+repColumns+` FROM reps WHERE team = $1 ORDER BY position, id`, team)
	if err != nil {
		return nil, mapError(err, "list reps of team %q", team)
	}
	reps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.Rep, error) { return scanRep(row) })
	return reps, mapError(err, "list reps of team %q", team)
}

// UpdateRep saves a rep's name, time zone, status and return date. A change of status or return date is
// recorded in the reps' history, with no actor: the caller does not say
// who made it.
func (q *queries) UpdateRep(ctx context.Context, r *engine.Rep) error {
	var n int
	err := q.db.QueryRow(ctx, `WITH old AS (
			SELECT id, status, away_until FROM reps WHERE email = lower($1) FOR UPDATE
		), changed AS (
			UPDATE reps r SET name = $2, time_zone = $3, status = $4,
				away_until = $5, updated_at = now()
			FROM old WHERE r.id = old.id
			RETURNING r.email, r.status, r.away_until, old.status AS old_status, old.away_until AS old_until
		), recorded AS (
			INSERT INTO rep_events (rep_email, kind, at, until)
			SELECT email, CASE
					WHEN status = 'away' THEN 'away'
					WHEN status = 'inactive' THEN 'deactivated'
					WHEN old_status = 'inactive' THEN 'reactivated'
					ELSE 'back' END,
				now(), CASE WHEN status = 'away' THEN away_until END
			FROM changed WHERE (status, away_until) IS DISTINCT FROM (old_status, old_until)
		)
		SELECT count(*) FROM changed`,
		r.Email, r.Name, r.TimeZone, string(r.Status), nullTime(r.AwayUntil)).Scan(&n)
	if err != nil {
		return mapError(err, "update rep %q", r.Email)
	}
	if n == 0 {
		return engine.Errorf(engine.ENOTFOUND, "%s is not a rep in any team of the policy file", r.Email)
	}
	return nil
}

// ReactivateRep makes an inactive rep active again (their chat account came
// back) and records it in the reps' history at the time given (the
// engine's clock), in one statement; it reports false, and records
// nothing, when the rep was not inactive.
func (q *queries) ReactivateRep(ctx context.Context, email string, at time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, `WITH back AS (
			UPDATE reps SET status = 'active', away_until = NULL, updated_at = now()
			WHERE email = lower($1) AND status = 'inactive' RETURNING email
		)
		INSERT INTO rep_events (rep_email, kind, actor, at, note)
		SELECT email, 'reactivated', $2, $3, 'the chat account is active again' FROM back`,
		email, directoryActor, at)
	if err != nil {
		return false, mapError(err, "reactivate rep %q", email)
	}
	return tag.RowsAffected() == 1, nil
}

// directoryActor names the directory sync in the reps' history, as the
// actor of deactivations and reactivations, on every platform.
const directoryActor = "directory"

// AppendRepEvent adds a row to the reps' availability history.
func (q *queries) AppendRepEvent(ctx context.Context, e *engine.RepEvent) error {
	err := q.db.QueryRow(ctx, `INSERT INTO rep_events (rep_email, kind, actor, at, until, note)
		VALUES (lower($1), $2, $3, $4, $5, $6) RETURNING id`,
		e.RepEmail, string(e.Kind), e.Actor, e.At, nullTime(e.Until), e.Note).Scan(&e.ID)
	return mapError(err, "record %s in the history of rep %q", e.Kind, e.RepEmail)
}

// RepEvents lists the reps' availability history that bears on [from, to),
// ordered by time and then as written: every event before to, except a
// rep's events up to and including their last return (back or
// reactivated) before from: the rep was available then, so nothing earlier
// matters.
func (q *queries) RepEvents(ctx context.Context, from, to time.Time) ([]engine.RepEvent, error) {
	rows, err := q.db.Query(ctx, `SELECT e.id, e.rep_email, e.kind, e.actor, e.at, e.until, e.note
		FROM rep_events e
		WHERE e.at < $2 AND NOT EXISTS (
			SELECT 1 FROM rep_events b
			WHERE b.rep_email = e.rep_email AND b.kind IN ('back', 'reactivated')
			  AND b.at < $1 AND (b.at, b.id) >= (e.at, e.id))
		ORDER BY e.at, e.id`, from, to)
	if err != nil {
		return nil, mapError(err, "load the reps' history")
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.RepEvent, error) {
		var e engine.RepEvent
		var kind string
		var until *time.Time
		err := row.Scan(&e.ID, &e.RepEmail, &kind, &e.Actor, &e.At, &until, &e.Note)
		e.Kind, e.Until = engine.RepEventKind(kind), timeOrZero(until)
		return e, err
	})
	return events, mapError(err, "load the reps' history")
}

// LockTeamCursor reads a team's round-robin cursor, locking the team row.
func (q *queries) LockTeamCursor(ctx context.Context, team string) (int, error) {
	var cursor int
	err := q.db.QueryRow(ctx, `SELECT rr_cursor FROM teams WHERE name = $1 FOR UPDATE`, team).Scan(&cursor)
	return cursor, mapError(err, "find team %q", team)
}

// SetTeamCursor stores a team's round-robin cursor.
func (q *queries) SetTeamCursor(ctx context.Context, team string, cursor int) error {
	_, err := q.db.Exec(ctx, `UPDATE teams SET rr_cursor = $2, updated_at = now() WHERE name = $1`, team, cursor)
	return mapError(err, "save the round robin of team %q", team)
}
