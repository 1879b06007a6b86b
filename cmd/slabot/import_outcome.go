package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// The outcome columns of an import: a backfilled history records what
// became of each lead, at the time the CRM says, so that the scorecard
// counts it in the right month.

// outcomeColumns are the columns an import reads as the lead's outcome,
// not as hand-off fields.
var outcomeColumns = []string{"outcome", "outcome.amount", "outcome.at", "outcome.opportunity_at"}

// rowOutcome is what a row says became of its lead.
type rowOutcome struct {
	Outcome       string
	Amount        float64
	At            time.Time
	OpportunityAt time.Time
}

// readRowOutcome takes the outcome columns out of record (their cells emptied
// in a copy, so the hand-off ignores them) and reads them.
func readRowOutcome(header, record []string) (rowOutcome, []string, error) {
	var o rowOutcome
	rest := slices.Clone(record)
	for i, col := range header {
		if i >= len(record) || !slices.Contains(outcomeColumns, col) {
			continue
		}
		v := strings.TrimSpace(record[i])
		rest[i] = ""
		if v == "" {
			continue
		}
		var err error
		switch col {
		case "outcome":
			o.Outcome = strings.ToLower(v)
			if !slices.Contains([]string{"opportunity", "won", "lost", "disqualified"}, o.Outcome) {
				return o, nil, fmt.Errorf("outcome: %q is not an outcome: use opportunity, won, lost or disqualified", v)
			}
		case "outcome.amount":
			o.Amount, err = strconv.ParseFloat(v, 64)
			if err != nil || o.Amount < 0 {
				return o, nil, fmt.Errorf("outcome.amount: %q is not an amount: write a number such as 1200.50", v)
			}
		case "outcome.at":
			o.At, err = time.Parse(time.RFC3339, v)
			if err != nil {
				return o, nil, fmt.Errorf("outcome.at: %q is not a time: write it as RFC 3339, like 2026-06-20T14:00:00Z", v)
			}
		case "outcome.opportunity_at":
			o.OpportunityAt, err = time.Parse(time.RFC3339, v)
			if err != nil {
				return o, nil, fmt.Errorf("outcome.opportunity_at: %q is not a time: write it as RFC 3339, like 2026-06-02T10:00:00Z", v)
			}
		}
	}
	if o.Outcome == "" && (o.Amount != 0 || !o.At.IsZero() || !o.OpportunityAt.IsZero()) {
		return o, nil, fmt.Errorf("outcome.amount, outcome.at or outcome.opportunity_at without an outcome: say which")
	}
	return o, rest, nil
}

// record sets the outcome on the lead: first the opportunity, when the row
// dates one and the lead is still open, then the outcome itself. Both are
// no-ops for a lead already there, so a second run changes nothing.
func (o rowOutcome) record(ctx context.Context, svc handOffService, l *engine.Lead) error {
	if o.Outcome == "" || l == nil {
		return nil
	}
	actor := engine.Actor{System: "import"}
	if !o.OpportunityAt.IsZero() && o.Outcome != "opportunity" && l.State.Open() {
		if _, err := svc.SetOutcome(ctx, l.ID, actor, "opportunity", 0, o.OpportunityAt); err != nil {
			return err
		}
	}
	if l.State == engine.StateWon || l.State == engine.StateLost || l.State == engine.StateDisqualified || l.State == engine.StateReturned {
		return nil // closed already: an earlier run, or the CRM
	}
	_, err := svc.SetOutcome(ctx, l.ID, actor, o.Outcome, o.Amount, o.At)
	return err
}
