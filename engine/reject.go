package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rejecting a lead: the rep says, in one of four categories Marketing can
// act on, why the lead is not theirs to work (the "Accepted leads"
// contract of the design).

// RejectCategory is why a rep rejects a lead: data.category of the
// lead.rejected event.
type RejectCategory string

// The rejection categories.
const (
	// RejectWrongOwner: the lead belongs to someone else; Detail names the
	// rep (email) or team, or is empty ("I don't know").
	RejectWrongOwner RejectCategory = "wrong_owner"
	// RejectBadData: the phone, email or company is wrong or missing.
	RejectBadData RejectCategory = "bad_data"
	// RejectNotOurBuyer: not someone Sales sells to.
	RejectNotOurBuyer RejectCategory = "not_our_buyer"
	// RejectDuplicate: Detail is the external id of the lead it repeats.
	RejectDuplicate RejectCategory = "duplicate"
)

// RejectDetails are the details each category takes (wrong_owner and
// duplicate name a person, team or lead instead).
var RejectDetails = map[RejectCategory][]string{
	RejectBadData:     {"phone", "email", "company", "other"},
	RejectNotOurBuyer: {"size", "industry", "region", "role", "student", "competitor", "job_seeker", "other"},
}

// EventRejected is the lead event that records a rejection.
const EventRejected = "rejected"

// Rejection is what the rep said.
type Rejection struct {
	Category RejectCategory
	Detail   string
	// Note is the rep's own words, optional.
	Note string
}

// rejectLabels are the categories as Marketing reads them in a return
// reason.
var rejectLabels = map[RejectCategory]string{
	RejectWrongOwner:  "Wrong owner",
	RejectBadData:     "Bad data",
	RejectNotOurBuyer: "Not our buyer",
	RejectDuplicate:   "Duplicate",
}

// Reject records the owner's rejection of a lead. A wrong owner re-routes
// the lead at once, with a fresh clock, to the rep or team named (the
// lead's team's round robin, without the rep, when they do not know), and
// tells the team's ops it was misrouted; any other category sends it back
// to Marketing with the category and detail as its reason. A duplicate is
// linked to the lead it repeats.
func (s *Service) Reject(ctx context.Context, leadID int64, a Actor, rej Rejection) (*Lead, error) {
	rej.Detail = strings.TrimSpace(rej.Detail)
	rej.Note = strings.TrimSpace(rej.Note)
	switch rej.Category {
	case RejectBadData, RejectNotOurBuyer:
		if !slices.Contains(RejectDetails[rej.Category], rej.Detail) {
			return nil, Errorf(EINVALID, "Say what is wrong: one of %s.", strings.Join(RejectDetails[rej.Category], ", "))
		}
	case RejectDuplicate:
		if rej.Detail == "" {
			return nil, Errorf(EINVALID, "Name the lead this one repeats, by its CRM id.")
		}
	case RejectWrongOwner:
		rej.Detail = strings.ToLower(rej.Detail)
	default:
		return nil, Errorf(EINVALID, "Choose why you reject the lead: wrong owner, bad data, not our buyer or duplicate.")
	}
	return s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		now = now.Truncate(time.Microsecond)
		if !l.State.Open() {
			return Errorf(EINVALID, "%s is already %s.", l.DisplayName(), l.State.Label())
		}
		policy := s.Policy()
		data := map[string]any{"category": string(rej.Category), "detail": rej.Detail, "owner": l.OwnerEmail}
		if rej.Note != "" {
			data["note"] = rej.Note
		}
		if rej.Category == RejectWrongOwner {
			return s.reroute(ctx, tx, policy, l, now, a, rej, data)
		}
		if rej.Category == RejectDuplicate {
			other, err := tx.LeadByExternalID(ctx, rej.Detail)
			if ErrorCode(err) == ENOTFOUND || (err == nil && other.ID == l.ID) {
				return Errorf(EINVALID, "slabot knows no other lead with the CRM id %q: check the id of the lead this one repeats.", rej.Detail)
			}
			if err != nil {
				return err
			}
			data["duplicate_of"] = other.ID
			if err := tx.AppendEvent(ctx, &Event{LeadID: other.ID, At: now, Kind: EventDuplicateLinked, Actor: a.String(),
				Data: map[string]any{"duplicate": l.ID, "external_id": l.ExternalID}}); err != nil {
				return err
			}
		}
		rejected := &Event{LeadID: l.ID, At: now, Kind: EventRejected, Actor: a.String(), Data: data}
		if err := tx.AppendEvent(ctx, rejected); err != nil {
			return err
		}
		if policy.Quality.Contesting() {
			// Marketing hears of it with a button to contest it.
			if _, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: now, UniqueKey: fmt.Sprintf("%s:%d", JobRejectionNotice, rejected.ID),
				Args: RejectionNoticeArgs{EventID: rejected.ID}}); err != nil {
				return err
			}
		}
		return s.returnLead(ctx, tx, l, now, a, rej.reason(), false)
	})
}

// EventDuplicateLinked is added to the lead a duplicate repeats.
const EventDuplicateLinked = "duplicate_linked"

// reason is the rejection as a return reason: "Bad data: phone".
func (r Rejection) reason() string {
	s := rejectLabels[r.Category]
	if r.Detail != "" {
		s += ": " + strings.ReplaceAll(r.Detail, "_", " ")
	}
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return s
}

// reroute hands a misrouted lead to the rep or team the rep named, or to
// the next rep of its team, with a fresh clock: the first rep's turn is
// over and does not count for or against them.
func (s *Service) reroute(ctx context.Context, tx Tx, policy *Policy, l *Lead, now time.Time, a Actor, rej Rejection, data map[string]any) error {
	rule := ruleOf(policy, l)
	if rule == nil {
		return Errorf(EINVALID, "%s falls under the rule %q, which is no longer in the policy file: ask your manager to reassign it.", l.DisplayName(), l.Rule)
	}
	first, routedTeam := l.OwnerEmail, l.Team
	extra := map[string]any{"reroute": true, "category": string(RejectWrongOwner), "detail": rej.Detail}
	var to, team string
	switch {
	case rej.Detail == "":
		team = l.Team
	case strings.Contains(rej.Detail, "@"):
		if strings.EqualFold(rej.Detail, l.OwnerEmail) {
			return Errorf(EINVALID, "%s is yours already: name someone else, or choose \"I don't know\".", l.DisplayName())
		}
		t := policy.TeamOf(rej.Detail)
		if t == nil {
			return Errorf(EINVALID, "%s is no rep in the agreement: name a rep or a team, or choose \"I don't know\".", rej.Detail)
		}
		rep, err := tx.RepByEmail(ctx, rej.Detail)
		if ErrorCode(err) == ENOTFOUND || (err == nil && !rep.Available(now)) {
			return Errorf(EINVALID, "%s cannot take leads right now: name someone else or their team.", rej.Detail)
		}
		if err != nil {
			return err
		}
		to, team = rep.Email, t.Name
	default:
		t := policy.Team(rej.Detail)
		if t == nil {
			var names []string
			for _, t := range policy.Teams {
				names = append(names, t.Name)
			}
			return Errorf(EINVALID, "There is no team called %q; the teams are %s.", rej.Detail, AndList(names))
		}
		team = t.Name
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventRejected, Actor: a.String(), Data: data}); err != nil {
		return err
	}
	why := "wrong owner: " + first + " says it is not theirs"
	if to != "" {
		if err := s.moveLead(ctx, tx, policy, rule, l, to, team, now, a, false, why, extra); err != nil {
			return err
		}
	} else {
		got, err := s.reassignInTeam(ctx, tx, policy, rule, l, team, now, a, false, why, extra)
		if err != nil {
			return err
		}
		if got == "" {
			return Errorf(EINVALID, "Nobody else in %s is available to take %s right now: name a rep or another team, or ask your manager.", team, l.DisplayName())
		}
		to = got
	}
	text := fmt.Sprintf("Misrouted lead: %s went to %s (team %s, rule %q), who says it is not theirs. slabot re-routed it to %s (%s) with a fresh clock.",
		l.DisplayName(), first, routedTeam, rule.Name, to, team)
	_, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: now,
		UniqueKey: fmt.Sprintf("%s:misroute:%d:%d", JobOpsAlert, l.ID, now.UnixMicro()),
		Args:      OpsAlertArgs{Team: routedTeam, Text: text}})
	return err
}
