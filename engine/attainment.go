package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file measures both sides of the agreement over a period: Sales'
// attainment (first touch on time, response times, cadence, breaches,
// outcomes) and Marketing's funnel against the monthly targets. It is pure
// computation over facts the storage layer loaded: no clock, no I/O, so the
// same numbers come out of a test, a slash command and the weekly report.

// LeadFacts is one lead with what happened to it, as loaded by storage.
type LeadFacts struct {
	Lead Lead
	// Touches are the times of the lead's touches, sorted, by whoever made them.
	Touches []time.Time
	// Breaches are every breach recorded on the lead, by any owner.
	Breaches []Breach
	// ReturnedReason is "" unless the lead went back to Marketing; "SLA
	// breached" when it went back automatically.
	ReturnedReason string
}

// ScopeKind says whose attainment is measured.
type ScopeKind string

// The scopes of an attainment.
const (
	ScopeRep  ScopeKind = "rep"
	ScopeTeam ScopeKind = "team"
	ScopeAll  ScopeKind = "all"
)

// Scope selects the leads an attainment covers. Leads belong to their
// current owner (Lead.OwnerEmail) and that owner's team (Lead.Team, or the
// policy's team of the owner when the lead has none): a reassigned lead
// counts for the rep who holds it now. Breaches are the exception: a
// breach counts for the rep and team recorded on it, the owner when it
// happened, so a rep who inherits a breached lead does not inherit the blame.
// An empty Kind is ScopeAll.
type Scope struct {
	Kind ScopeKind
	// Rep is the rep's email for ScopeRep (compared without regard to case).
	Rep string
	// Team is the team's name for ScopeTeam (compared without regard to case).
	Team string
}

// String names the scope for people: "everyone", "ana@example.com",
// "team sdr-east".
func (s Scope) String() string {
	switch s.Kind {
	case ScopeRep:
		return strings.ToLower(strings.TrimSpace(s.Rep))
	case ScopeTeam:
		return "team " + strings.TrimSpace(s.Team)
	}
	return "everyone"
}

// has reports whether a lead or breach held by owner in team is in scope.
func (s Scope) has(owner, team string) bool {
	switch s.Kind {
	case ScopeRep:
		return owner != "" && strings.EqualFold(strings.TrimSpace(owner), strings.TrimSpace(s.Rep))
	case ScopeTeam:
		return team != "" && strings.EqualFold(strings.TrimSpace(team), strings.TrimSpace(s.Team))
	}
	return true
}

// leadTeam is the lead's team, or the policy's team of its owner when the
// lead does not record one.
func leadTeam(p *Policy, l *Lead) string {
	if l.Team != "" || p == nil {
		return l.Team
	}
	if t := p.TeamOf(l.OwnerEmail); t != nil {
		return t.Name
	}
	return ""
}

func (s Scope) hasLead(p *Policy, l *Lead) bool { return s.has(l.OwnerEmail, leadTeam(p, l)) }

// hasBreach reports whether breach b on lead l is in scope: by the rep and
// team recorded on the breach, falling back to the lead's when the breach
// does not say.
func (s Scope) hasBreach(p *Policy, b Breach, l *Lead) bool {
	rep, team := breachRep(b, l), b.Team
	if team == "" {
		if b.RepEmail == "" {
			team = leadTeam(p, l)
		} else if p != nil {
			if t := p.TeamOf(b.RepEmail); t != nil {
				team = t.Name
			}
		}
	}
	return s.has(rep, team)
}

func breachRep(b Breach, l *Lead) string {
	if b.RepEmail != "" {
		return strings.ToLower(b.RepEmail)
	}
	return strings.ToLower(l.OwnerEmail)
}

// Period is a span of time a report covers, [Start, End). Its dates are
// read in Start's location, which the constructors set to the agreement's
// zone: a week starts at Monday 00:00 there, whatever the offset.
type Period struct {
	Start, End time.Time
	// Label names the period for people: "week 47 (Nov 16–22)",
	// "November 2026", "Q4 2026".
	Label string
}

// Contains reports whether t is in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.IsZero() && !t.Before(p.Start) && t.Before(p.End)
}

// dates lists the calendar dates the period covers, in Start's location.
// A date counts when its first instant is inside the period, so a period
// built from midnights covers exactly its days, DST or not.
func (p Period) dates() []CalendarDate {
	loc := p.Start.Location()
	var out []CalendarDate
	for d := DateOf(p.Start.In(loc)); d.In(loc).Before(p.End); d = d.AddDays(1) {
		if !d.In(loc).Before(p.Start) {
			out = append(out, d)
		}
	}
	return out
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// isoWeek1Monday is the Monday starting ISO week 1 of year: the week that
// holds 4 January.
func isoWeek1Monday(year int) CalendarDate {
	jan4 := CalendarDate{year, time.January, 4}
	return jan4.AddDays(-((int(jan4.Weekday()) + 6) % 7))
}

// isoWeeksIn is 52 or 53: the ISO week of 28 December, which is always in
// the year's last week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// WeekPeriod returns ISO week week of year, from Monday 00:00 to the next
// Monday 00:00 in loc (UTC when nil): 2026 week 47 is 16–22 November. A
// week outside 1–52/53 rolls over into the neighbouring year, like
// time.Date; ParseISOWeek rejects those instead.
func WeekPeriod(year, week int, loc *time.Location) Period {
	loc = orUTC(loc)
	start := isoWeek1Monday(year).AddDays((week - 1) * 7)
	last := start.AddDays(6)
	_, w := time.Date(start.Year, start.Month, start.Day, 12, 0, 0, 0, time.UTC).ISOWeek()
	span := fmt.Sprintf("%s %d–%d", start.Month.String()[:3], start.Day, last.Day)
	if last.Month != start.Month {
		span = fmt.Sprintf("%s %d–%s %d", start.Month.String()[:3], start.Day, last.Month.String()[:3], last.Day)
	}
	return Period{Start: start.In(loc), End: start.AddDays(7).In(loc), Label: fmt.Sprintf("week %d (%s)", w, span)}
}

// MonthPeriod returns the calendar month, from the 1st at 00:00 in loc
// (UTC when nil) to the 1st of the next month, labelled "November 2026".
func MonthPeriod(year int, month time.Month, loc *time.Location) Period {
	loc = orUTC(loc)
	first := DateOf(time.Date(year, month, 1, 12, 0, 0, 0, time.UTC))
	next := DateOf(time.Date(year, month+1, 1, 12, 0, 0, 0, time.UTC))
	return Period{Start: first.In(loc), End: next.In(loc), Label: fmt.Sprintf("%s %d", first.Month, first.Year)}
}

// QuarterPeriod returns quarter q (1–4) of year in loc, labelled "Q4 2026".
func QuarterPeriod(year, q int, loc *time.Location) Period {
	loc = orUTC(loc)
	first := DateOf(time.Date(year, time.Month(3*(q-1)+1), 1, 12, 0, 0, 0, time.UTC))
	next := DateOf(time.Date(year, time.Month(3*q+1), 1, 12, 0, 0, 0, time.UTC))
	return Period{Start: first.In(loc), End: next.In(loc), Label: fmt.Sprintf("Q%d %d", (int(first.Month)-1)/3+1, first.Year)}
}

// PeriodContaining returns the week (ISO, Monday first), month or quarter
// that holds t, read in loc (UTC when nil). kind is "week", "month" or
// "quarter"; anything else is an EINVALID error.
func PeriodContaining(kind string, t time.Time, loc *time.Location) (Period, error) {
	loc = orUTC(loc)
	lt := t.In(loc)
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "week":
		y, w := lt.ISOWeek()
		return WeekPeriod(y, w, loc), nil
	case "month":
		return MonthPeriod(lt.Year(), lt.Month(), loc), nil
	case "quarter":
		return QuarterPeriod(lt.Year(), (int(lt.Month())-1)/3+1, loc), nil
	}
	return Period{}, Errorf(EINVALID, "%q is not a kind of period: use week, month or quarter", kind)
}

// ParseISOWeek reads an ISO week written "2026-W47" (the W may be
// lower-case) and returns it as WeekPeriod does. A week the year does not
// have (W00, W53 of a 52-week year) is an EINVALID error.
func ParseISOWeek(s string, loc *time.Location) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, Errorf(EINVALID, "%q is not an ISO week%s: write it as YYYY-Www, like 2026-W47", s, why)
	}
	ys, ws, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-W")
	if !ok || len(ys) != 4 || len(ws) < 1 || len(ws) > 2 {
		return bad("")
	}
	year, err1 := strconv.Atoi(ys)
	week, err2 := strconv.Atoi(ws)
	if err1 != nil || err2 != nil || year < 1 || week < 0 {
		return bad("")
	}
	if n := isoWeeksIn(year); week < 1 || week > n {
		return bad(fmt.Sprintf(" (%d has weeks 1 to %d)", year, n))
	}
	return WeekPeriod(year, week, loc), nil
}

// Stats summarises durations by their median and 90th percentile, not the
// mean: one lead forgotten over a weekend should not hide how fast the
// typical lead is answered, nor should it disappear.
//
// Percentiles use the nearest-rank method: the p-th percentile of n sorted
// values is the value at rank ⌈p × n / 100⌉ (1-based). Every reported
// value therefore actually occurred; the median of an even count is the
// lower of the two middle values, and P90 of fewer than 10 values is the
// largest but at most one. With Count 0 both are 0.
type Stats struct {
	Count       int
	Median, P90 time.Duration
}

// StatsOf computes Stats over ds (in any order; ds is not modified).
func StatsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Stats{Count: len(s), Median: nearestRank(s, 50), P90: nearestRank(s, 90)}
}

// nearestRank returns the pct-th percentile of sorted, in integers so that
// no float rounding moves a rank.
func nearestRank(sorted []time.Duration, pct int) time.Duration {
	rank := (pct*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// Attainment is how one scope did against the agreement over one period.
//
// Different numbers follow different clocks, each the one that makes the
// number final as soon as it can be:
//   - SQLs, first touch, response times and routing delay follow the leads
//     received in the period (a cohort), judged as of now.
//   - Cadence, breaches, returns and outcomes count what happened in the
//     period, whenever the lead came in.
//   - OpenLeads is a snapshot at the end of the period, or now if earlier.
//
// Shares are 0 when nothing was decided (0/0); the Has… flags tell "0%"
// from "nothing to measure". Maps are never nil.
type Attainment struct {
	Scope  Scope
	Period Period

	// SQLs counts leads received (ReceivedAt) in the period and in scope.
	SQLs int
	// The first-touch outcome of each SQL, for its current assignment
	// (FirstTouchOnTime + FirstTouchLate + FirstTouchPending +
	// FirstTouchClosed == SQLs):
	//   - on time: a touch at or before FirstTouchDue, and no first-touch
	//     breach recorded for this assignment;
	//   - late: a first-touch breach recorded for this assignment (it wins
	//     over a back-dated touch: the SLA was judged at the deadline), a
	//     first touch after the deadline, or no touch and the deadline passed;
	//   - pending: not touched and not yet due, or never assigned (no owner,
	//     so no clock; see Unrouted);
	//   - closed: closed (returned, disqualified, …) before the deadline
	//     without a touch. The rep disposed of the lead in time, which is
	//     neither a first touch nor a miss, so it is left out of the share.
	// A touch counts for the assignment when it is at or after AssignedAt,
	// or earlier when the lead was never reassigned (a rep who called before
	// the CRM's hand-off arrived answered in no time). A reassigned lead's
	// earlier touches belong to its previous owner.
	FirstTouchOnTime, FirstTouchLate, FirstTouchPending, FirstTouchClosed int
	// OnTimeShare is on time ÷ (on time + late); HasOnTimeData reports
	// whether that denominator is above 0. OnTimeTarget is the policy's
	// first_touch_on_time (DefaultFirstTouchOnTime when not set).
	OnTimeShare   float64
	HasOnTimeData bool
	OnTimeTarget  float64
	// Unrouted counts SQLs without an owner.
	Unrouted int

	// TimeToFirstTouchBusiness and TimeToFirstTouchWall are the rep's
	// delay, AssignedAt → first touch, over SQLs touched so far (on time
	// or late): in business time on the policy's calendar (24×7 without
	// one), and on the wall clock. A touch before the assignment is 0.
	TimeToFirstTouchBusiness, TimeToFirstTouchWall Stats
	// RoutingDelay is HandedOffAt → AssignedAt in wall time: the time the
	// lead spent reaching a rep, which is ops' part, kept apart from the
	// rep's. Reassigned leads are left out, since their AssignedAt is the
	// reassignment, not the routing.
	RoutingDelay Stats

	// Cadence: leads whose "N touches in D days" was decided in the
	// period: met at the moment of the N-th touch in the window, missed
	// when the window closed short while the lead was still with Sales
	// (a lead closed before its window ended owes no cadence). Running
	// counts windows still open, and not yet met, at the end of the period
	// (or now). CadenceShare is met ÷ (met + missed); HasCadenceData
	// reports whether that is above 0.
	CadenceMet, CadenceMissed, CadenceRunning int
	CadenceShare                              float64
	HasCadenceData                            bool

	// Breaches with At in the period, in scope by the breach's rep and
	// team; by rule name, kind and rep email (lower-cased).
	BreachesByRule map[string]int
	BreachesByKind map[BreachKind]int
	BreachesByRep  map[string]int
	// Breaches is the total of BreachesByKind.
	Breaches int

	// ReturnsByReason counts leads returned to Marketing with ClosedAt in
	// the period, by reason ("no reason given" when none was recorded).
	ReturnsByReason map[string]int
	// Returns is the total of ReturnsByReason.
	Returns int

	// Outcomes. Won, Lost and Disqualified count leads in that state with
	// ClosedAt in the period; WonAmount sums the won leads' Amount.
	// Opportunities counts leads now in the opportunity state: slabot keeps
	// no date for becoming one, so each is placed by ClosedAt when set, else
	// by ReceivedAt.
	Opportunities, Won, Lost, Disqualified int
	WonAmount                              float64

	// OpenLeads counts leads in scope that were open (with Sales and their
	// clocks running) at the end of the period, or now if that is earlier.
	OpenLeads int
}

// ruleOf is the policy rule of a lead: by the name recorded on it, else by
// matching, or nil.
func ruleOf(p *Policy, l *Lead) *Rule {
	if p == nil {
		return nil
	}
	if r := p.Rule(l.Rule); r != nil && l.Rule != "" {
		return r
	}
	return p.RuleFor(l.Source, l.Segment, l.Score)
}

// firstTouchDue is the lead's first-touch deadline: the one the rep was
// told, else worked out from the rule; zero when there is no assignment
// or rule.
func firstTouchDue(p *Policy, l *Lead) time.Time {
	if !l.FirstTouchDue.IsZero() || l.AssignedAt.IsZero() {
		return l.FirstTouchDue
	}
	if r := ruleOf(p, l); r != nil {
		return p.Deadlines(r, l.AssignedAt).FirstTouchDue
	}
	return time.Time{}
}

// reassigned reports whether the lead's current assignment is not its
// first: counted re-routings, or a breach due before the assignment (the
// previous owner's).
func reassigned(f *LeadFacts) bool {
	if f.Lead.Reassignments > 0 || f.Lead.State == StateReassigned {
		return true
	}
	return slices.ContainsFunc(f.Breaches, func(b Breach) bool { return b.Due.Before(f.Lead.AssignedAt) })
}

// firstTouch is the first touch that answers the current assignment, as
// of now (see Attainment.FirstTouchOnTime).
func firstTouch(f *LeadFacts, now time.Time) (time.Time, bool) {
	l := &f.Lead
	if l.AssignedAt.IsZero() {
		return time.Time{}, false
	}
	early := !reassigned(f)
	var first time.Time
	consider := func(t time.Time) {
		if t.IsZero() || t.After(now) || (!early && t.Before(l.AssignedAt)) {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	consider(l.FirstTouchAt)
	for _, t := range f.Touches {
		consider(t)
	}
	return first, !first.IsZero()
}

// firstTouchOutcome sorts a lead into on time, late, pending or closed.
type firstTouchOutcome int

const (
	ftPending firstTouchOutcome = iota
	ftOnTime
	ftLate
	ftClosed
)

func judgeFirstTouch(p *Policy, f *LeadFacts, now time.Time) firstTouchOutcome {
	l := &f.Lead
	if l.AssignedAt.IsZero() {
		return ftPending
	}
	for _, b := range f.Breaches {
		if b.Kind == BreachFirstTouch && !b.Due.Before(l.AssignedAt) {
			return ftLate
		}
	}
	due := firstTouchDue(p, l)
	touch, touched := firstTouch(f, now)
	switch {
	case touched && (due.IsZero() || !touch.After(due)):
		return ftOnTime
	case touched:
		return ftLate
	case due.IsZero():
		return ftPending
	case !l.State.Open() && (l.ClosedAt.IsZero() || !l.ClosedAt.After(due)):
		// Closed untouched before the deadline: disposed of in time. An
		// opportunity has no ClosedAt; it came about somehow, so it is not
		// held against the rep either.
		return ftClosed
	case !now.Before(due):
		return ftLate
	}
	return ftPending
}

// cadenceDecision is when and how a lead's cadence was decided.
type cadenceDecision struct {
	applies bool      // the lead owes a cadence for this assignment
	decided bool      // met or missed, at `at`
	met     bool      // met (else missed)
	at      time.Time // the N-th touch in the window, or the window's end
	end     time.Time // the window's end
	stopped time.Time // when the lead left Sales; zero while open
}

func decideCadence(p *Policy, f *LeadFacts, now time.Time) cadenceDecision {
	l := &f.Lead
	r := ruleOf(p, l)
	if r == nil || r.Touches.Count <= 0 || r.Touches.Within <= 0 || l.AssignedAt.IsZero() {
		return cadenceDecision{}
	}
	d := cadenceDecision{applies: true, end: r.cadenceEnd(l.AssignedAt)}
	n := 0
	for _, t := range f.Touches {
		if !t.Before(l.AssignedAt) && t.Before(d.end) && !t.After(now) {
			n++
			if n == r.Touches.Count {
				d.decided, d.met, d.at = true, true, t
				return d
			}
		}
	}
	if !l.State.Open() {
		if l.ClosedAt.IsZero() || l.ClosedAt.Before(d.end) {
			// Left Sales before the window closed (or at an unknown time, an
			// opportunity): no cadence is owed any more.
			return cadenceDecision{}
		}
		d.stopped = l.ClosedAt
	}
	if !now.Before(d.end) {
		d.decided, d.at = true, d.end
	}
	return d
}

// openAt reports whether the lead was open (with Sales, clocks running) at c.
func openAt(l *Lead, c time.Time) bool {
	if l.ReceivedAt.IsZero() || !l.ReceivedAt.Before(c) {
		return false
	}
	if l.State.Open() {
		return l.ClosedAt.IsZero() || !l.ClosedAt.Before(c)
	}
	return !l.ClosedAt.IsZero() && !l.ClosedAt.Before(c)
}

// share is num ÷ den, and whether den is above 0; 0 for 0/0, never NaN.
func share(num, den int) (float64, bool) {
	if den <= 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// cutoff is the end of the period, or now when that is earlier: what has
// not happened yet cannot be counted.
func cutoff(period Period, now time.Time) time.Time {
	if now.Before(period.End) {
		return now
	}
	return period.End
}

// ComputeAttainment measures scope over period as of now from facts (all
// leads; those outside the scope are skipped). p may be nil: no rules, a
// 24×7 clock and the default on-time target. See Attainment for what each
// number counts.
func ComputeAttainment(p *Policy, facts []LeadFacts, scope Scope, period Period, now time.Time) Attainment {
	a := Attainment{
		Scope: scope, Period: period, OnTimeTarget: DefaultFirstTouchOnTime,
		BreachesByRule: map[string]int{}, BreachesByKind: map[BreachKind]int{}, BreachesByRep: map[string]int{},
		ReturnsByReason: map[string]int{},
	}
	var cal *Calendar
	if p != nil {
		cal = p.Calendar
		if p.Targets.FirstTouchOnTime > 0 {
			a.OnTimeTarget = p.Targets.FirstTouchOnTime
		}
	}
	end := cutoff(period, now)
	var business, wall, routing []time.Duration
	for i := range facts {
		f := &facts[i]
		l := &f.Lead

		for _, b := range f.Breaches {
			if period.Contains(b.At) && !b.At.After(now) && scope.hasBreach(p, b, l) {
				rule := b.Rule
				if rule == "" {
					rule = l.Rule
				}
				a.BreachesByRule[rule]++
				a.BreachesByKind[b.Kind]++
				a.BreachesByRep[breachRep(b, l)]++
				a.Breaches++
			}
		}
		if !scope.hasLead(p, l) {
			continue
		}

		if period.Contains(l.ReceivedAt) && !l.ReceivedAt.After(now) {
			a.SQLs++
			if l.OwnerEmail == "" {
				a.Unrouted++
			}
			switch judgeFirstTouch(p, f, now) {
			case ftOnTime:
				a.FirstTouchOnTime++
			case ftLate:
				a.FirstTouchLate++
			case ftClosed:
				a.FirstTouchClosed++
			default:
				a.FirstTouchPending++
			}
			if t, ok := firstTouch(f, now); ok {
				business = append(business, cal.Between(l.AssignedAt, t))
				wall = append(wall, max(0, t.Sub(l.AssignedAt)))
			}
			if !l.HandedOffAt.IsZero() && !l.AssignedAt.IsZero() && !reassigned(f) {
				routing = append(routing, max(0, l.AssignedAt.Sub(l.HandedOffAt)))
			}
		}

		if cd := decideCadence(p, f, now); cd.applies {
			switch {
			case cd.decided && period.Contains(cd.at) && cd.met:
				a.CadenceMet++
			case cd.decided && period.Contains(cd.at):
				a.CadenceMissed++
			}
			// Running at the cut-off: assigned, window still open, not met
			// yet, and still with Sales.
			running := l.AssignedAt.Before(end) && end.Before(cd.end) && !end.Before(period.Start) &&
				(!cd.decided || !cd.at.Before(end)) && (cd.stopped.IsZero() || !cd.stopped.Before(end))
			if running {
				a.CadenceRunning++
			}
		}

		if (l.State == StateReturned || f.ReturnedReason != "") && period.Contains(l.ClosedAt) && !l.ClosedAt.After(now) {
			reason := strings.TrimSpace(f.ReturnedReason)
			if reason == "" {
				reason = strings.TrimSpace(l.ReturnReason)
			}
			if reason == "" {
				reason = "no reason given"
			}
			a.ReturnsByReason[reason]++
			a.Returns++
		}

		closedIn := period.Contains(l.ClosedAt) && !l.ClosedAt.After(now)
		switch l.State {
		case StateWon:
			if closedIn {
				a.Won++
				a.WonAmount += l.Amount
			}
		case StateLost:
			if closedIn {
				a.Lost++
			}
		case StateDisqualified:
			if closedIn {
				a.Disqualified++
			}
		case StateOpportunity:
			when := l.ClosedAt
			if when.IsZero() {
				when = l.ReceivedAt
			}
			if period.Contains(when) && !when.After(now) {
				a.Opportunities++
			}
		}

		if openAt(l, end) {
			a.OpenLeads++
		}
	}
	a.OnTimeShare, a.HasOnTimeData = share(a.FirstTouchOnTime, a.FirstTouchOnTime+a.FirstTouchLate)
	a.CadenceShare, a.HasCadenceData = share(a.CadenceMet, a.CadenceMet+a.CadenceMissed)
	a.TimeToFirstTouchBusiness = StatsOf(business)
	a.TimeToFirstTouchWall = StatsOf(wall)
	a.RoutingDelay = StatsOf(routing)
	return a
}

// Funnel is Marketing's side over a period, against the monthly targets.
//
// Targets are monthly and pro-rated by calendar days: each day of the
// period adds 1/n of its month's target (n = the days in that month), so a
// week of 26 October to 1 November is 6/31 of October's target plus 1/30 of
// November's, and a quarter is three full months. The period's targets
// (MQLTarget, SQLTarget, WonTarget) are rounded up, as the plan's are; the
// paces use the unrounded target of the days elapsed.
type Funnel struct {
	Period Period
	// MQLs counts MQLs with At in the period; SQLs leads with ReceivedAt
	// in the period; Won leads won with ClosedAt in the period. Targets are
	// 0 when the agreement sets none.
	MQLs, MQLTarget int
	SQLs, SQLTarget int
	Won, WonTarget  int
	// MQLToSQL is SQLs ÷ MQLs and SQLToWon is Won ÷ SQLs, both of the
	// period (0 when the divisor is 0). Won deals mostly come from earlier
	// SQLs (the sales cycle), so SQLToWon over a short period is a rough
	// current rate, not the conversion of the period's own leads.
	MQLToSQL, MQLToSQLTarget, SQLToWon, SQLToWonTarget float64
	// DaysInPeriod counts the period's calendar days; DaysElapsed those
	// that have begun by now (today counts, as in the waterfall).
	DaysElapsed, DaysInPeriod int
	// MQLPace and SQLPace are actual ÷ the target pro-rated to the days
	// elapsed: 1 is on track, 0.8 is 20% behind. 0 when there is no target
	// or no day has elapsed.
	MQLPace, SQLPace float64
	// OpenSQLs counts leads open or at the opportunity stage at the end of
	// the period (or now), whenever received. ExpectedPipeline is OpenSQLs
	// × win rate × deal size: what they should bring in at the agreed
	// rates, win_rate (else sql_to_won) and deal_size; 0 without both.
	OpenSQLs         int
	ExpectedPipeline float64
}

// MonthlyTargets are the agreement's monthly MQL, SQL and won-deal targets
// as the funnel uses them:
//   - MQLs as written;
//   - SQLs as written or MQLs × mql_to_sql rounded up (Targets.SQLs), else
//     from the revenue goal: revenue ÷ deal size ÷ win rate (5000 at 100 and
//     0.5 is 100 SQLs);
//   - won deals SQLs × sql_to_won rounded up (450 × 0.15 → 68), else revenue
//     ÷ deal size, else SQLs × win rate.
//
// A 0 means no target.
func MonthlyTargets(p *Policy) (mqls, sqls, won int) {
	if p == nil {
		return 0, 0, 0
	}
	t := p.Targets
	mqls, sqls = t.MQLs, t.SQLs
	var plan *Plan
	if t.Revenue > 0 && t.DealSize > 0 {
		rate := t.WinRate
		if rate == 0 {
			rate = t.SQLToWon
		}
		if pl, err := PlanFromRevenue(t.Revenue, t.DealSize, rate, 0); err == nil {
			plan = &pl
		}
	}
	if sqls == 0 && plan != nil {
		sqls = plan.SQLs
	}
	switch {
	case t.SQLToWon > 0 && sqls > 0:
		won = ceilCount(float64(sqls) * t.SQLToWon)
	case t.Revenue > 0 && t.DealSize > 0:
		won = ceilCount(t.Revenue / t.DealSize)
	case t.WinRate > 0 && sqls > 0:
		won = ceilCount(float64(sqls) * t.WinRate)
	}
	return mqls, sqls, won
}

// monthShare is how many months' worth of target the dates hold: 1/n for
// each date of an n-day month, summed a month at a time so that a whole
// month is exactly 1.
func monthShare(dates []CalendarDate) float64 {
	type ym struct {
		y int
		m time.Month
	}
	days := map[ym]int{}
	var order []ym
	for _, d := range dates {
		k := ym{d.Year, d.Month}
		if days[k] == 0 {
			order = append(order, k)
		}
		days[k]++
	}
	total := 0.0
	for _, k := range order {
		n := time.Date(k.y, k.m+1, 0, 12, 0, 0, 0, time.UTC).Day()
		total += float64(days[k]) / float64(n)
	}
	return total
}

// pace is actual ÷ expected, 0 when nothing was expected.
func pace(actual int, expected float64) float64 {
	if expected <= 0 {
		return 0
	}
	return float64(actual) / expected
}

// ratio is num ÷ den, 0 for a zero den.
func ratio(num, den int) float64 {
	r, _ := share(num, den)
	return r
}

// ComputeFunnel measures Marketing's funnel over period as of now: MQLs
// from mqls, SQLs and won deals from facts (every lead, whatever its
// owner). Monthly targets are pro-rated to the period's days; see Funnel.
func ComputeFunnel(p *Policy, facts []LeadFacts, mqls []MQL, period Period, now time.Time) Funnel {
	f := Funnel{Period: period}
	end := cutoff(period, now)
	for _, m := range mqls {
		if period.Contains(m.At) && !m.At.After(now) {
			f.MQLs++
		}
	}
	for i := range facts {
		l := &facts[i].Lead
		if period.Contains(l.ReceivedAt) && !l.ReceivedAt.After(now) {
			f.SQLs++
		}
		if l.State == StateWon && period.Contains(l.ClosedAt) && !l.ClosedAt.After(now) {
			f.Won++
		}
		if openAt(l, end) || (l.State == StateOpportunity && !l.ReceivedAt.IsZero() && l.ReceivedAt.Before(end)) {
			f.OpenSQLs++
		}
	}

	dates := period.dates()
	f.DaysInPeriod = len(dates)
	loc := period.Start.Location()
	elapsed := dates[:0:0]
	for _, d := range dates {
		if !now.Before(d.In(loc)) {
			elapsed = append(elapsed, d)
		}
	}
	f.DaysElapsed = len(elapsed)

	mqlMonth, sqlMonth, wonMonth := MonthlyTargets(p)
	whole, sofar := monthShare(dates), monthShare(elapsed)
	f.MQLTarget = ceilCount(float64(mqlMonth) * whole)
	f.SQLTarget = ceilCount(float64(sqlMonth) * whole)
	f.WonTarget = ceilCount(float64(wonMonth) * whole)
	f.MQLPace = pace(f.MQLs, float64(mqlMonth)*sofar)
	f.SQLPace = pace(f.SQLs, float64(sqlMonth)*sofar)

	f.MQLToSQL = ratio(f.SQLs, f.MQLs)
	f.SQLToWon = ratio(f.Won, f.SQLs)
	if p != nil {
		t := p.Targets
		f.MQLToSQLTarget = t.MQLToSQL
		f.SQLToWonTarget = t.SQLToWon
		if f.SQLToWonTarget == 0 {
			f.SQLToWonTarget = t.WinRate
		}
		rate := t.WinRate
		if rate == 0 {
			rate = t.SQLToWon
		}
		f.ExpectedPipeline = float64(f.OpenSQLs) * rate * t.DealSize
	}
	return f
}
