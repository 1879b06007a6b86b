package engine

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	// The policy names IANA zones; embedding the zone database means a
	// container without /usr/share/zoneinfo still understands them.
	_ "time/tzdata"
)

// Policy is the Sales–Marketing agreement as slabot enforces it, read from
// the policy file (see ParsePolicy). A Policy is not modified after
// loading and is safe for concurrent use.
type Policy struct {
	// TimezoneName is the zone as written ("UTC" when absent); Location is
	// the loaded zone. Deadlines, holidays, review_by and the report
	// schedule are all read in it.
	TimezoneName string
	Location     *time.Location
	// Calendar holds the business hours; nil means the SLA clock runs 24×7
	// (no business_hours in the file).
	Calendar *Calendar
	// Holidays are the holiday dates as written, YYYY-MM-DD, in file order.
	Holidays []string
	// ReviewBy is midnight starting the agreement's review date in
	// Location; zero when the file has no review_by.
	ReviewBy time.Time
	Report   ReportConfig
	// ScoreBands are the lower bounds of the scorecard's score bands,
	// ascending (key report.score_bands); empty: the rules' min_score
	// values.
	ScoreBands []int
	Targets    Targets
	Teams      []Team
	// Rules are tried in order; the first that matches a lead applies.
	// A valid policy's last rule matches every lead.
	Rules []Rule
	// Webhooks are the endpoints told about lead events (key webhooks).
	Webhooks []Webhook
	// CRM tunes the CRM integrations (key crm).
	CRM CRMConfig
	// Quality says who may contest a rejection, and for how long (key
	// quality).
	Quality QualityConfig
	// Review tunes the review pack (key review); use ReviewSettings for
	// the values with their defaults.
	Review ReviewConfig
	// Recycle says where a contact goes when handed off again after a
	// return to Marketing (key recycle).
	Recycle RecycleConfig
}

// ReportConfig says where and when the weekly smarketing report is posted.
// Both are empty when the file has no report section.
type ReportConfig struct {
	// Channel is a channel name ("#smarketing") or ID.
	Channel string
	// Schedule is a cron spec read in the policy's time zone: 5 fields
	// (minute hour day-of-month month day-of-week), or 6 with seconds
	// first, or a descriptor such as "@weekly". When the file gives a
	// channel but no schedule it is DefaultReportSchedule.
	Schedule string
}

// DefaultReportSchedule is Mondays at 09:00, used when a report channel is
// given without a schedule.
const DefaultReportSchedule = "0 9 * * MON"

// DefaultFirstTouchOnTime is the share of leads Sales commits to touch
// before their first-touch deadline when the file does not say: "99% of
// leads within H hours".
const DefaultFirstTouchOnTime = 0.99

// Targets are both sides' numbers per calendar month. A zero means the
// agreement sets no such target (except FirstTouchOnTime, which defaults
// to DefaultFirstTouchOnTime).
type Targets struct {
	// MQLs is Marketing's monthly volume of marketing-qualified leads.
	MQLs int
	// MQLToSQL and SQLToWon are conversion rates between 0 and 1.
	MQLToSQL float64
	SQLToWon float64
	// Revenue is the monthly revenue goal; DealSize the average deal.
	Revenue  float64
	DealSize float64
	// WinRate is the share of SQLs Sales expects to win, 0 to 1.
	WinRate float64
	// FirstTouchOnTime is the share of leads to be touched before the
	// first-touch deadline (key first_touch_on_time).
	FirstTouchOnTime float64
	// Accepted is the share of decided hand-offs Sales should accept (key
	// accepted); 0 when the file sets none, and DefaultAcceptedTarget
	// applies.
	Accepted float64
	// SQLs is the monthly volume of sales-qualified leads: as written, or
	// when absent MQLs × MQLToSQL rounded up (SQLsDerived is then true).
	SQLs        int
	SQLsDerived bool
}

// Team is a group of reps with a manager who hears about breaches.
type Team struct {
	Name string
	// Manager is the manager's email, lower-cased.
	Manager string
	// EscalationChannel is where breaches are also posted ("" for none).
	EscalationChannel string
	// Reps are the reps' emails, lower-cased, in file order.
	Reps []string
	// Calendar is the team's own business calendar (key calendar: its own
	// timezone, business_hours and holidays, each defaulting to the
	// policy's), or nil when the team keeps the policy's calendar. Use
	// Policy.CalendarFor rather than reading it.
	Calendar *Calendar
}

// Rule is the SLA for the leads it matches.
type Rule struct {
	Name  string
	Match Match
	// FirstTouch is how long the rep has for the first touch, counted in
	// business time on the policy's calendar.
	FirstTouch time.Duration
	// AcceptWithin, when set, is how long the rep has to accept the lead
	// (or touch it, which accepts it too), in business time like
	// FirstTouch and never longer; zero: accepting has no deadline.
	AcceptWithin time.Duration
	// Touches is the follow-up cadence; a zero Count means the rule asks
	// for no cadence.
	Touches Cadence
	// RemindBefore says when to remind the rep: each is business time
	// before the first-touch deadline, all shorter than FirstTouch. They are
	// sorted longest first, i.e. in the order the reminders fire.
	RemindBefore []time.Duration
	// OnBreach lists what happens when the lead is breached, in file order.
	OnBreach []BreachAction
	// loc is the policy's zone, in which whole days of a cadence window are
	// counted (nil: the zone of the assignment time).
	loc *time.Location
	// Team, when set, is the team whose round robin takes the rule's leads;
	// otherwise the named owner's team, or the first team of the file.
	Team string
	// Line is where the rule starts in the policy file (0 if not from one).
	Line int
}

// Match selects leads for a rule. An empty list or nil MinScore matches
// anything; an empty Match is a catch-all. Sources and segments are
// stored lower-cased and compared without regard to case.
type Match struct {
	Source   []string
	Segment  []string
	MinScore *int
}

// Cadence is "at least Count touches within Within of the assignment",
// counted in calendar (wall) time, not business time: "8 touches in 15
// days" means 15 days on the calendar.
type Cadence struct {
	Count  int
	Within time.Duration
}

// IsCatchAll reports whether m matches every lead.
func (m Match) IsCatchAll() bool {
	return len(m.Source) == 0 && len(m.Segment) == 0 && m.MinScore == nil
}

// Matches reports whether a lead with this source, segment and score falls
// under m.
func (m Match) Matches(source, segment string, score int) bool {
	if len(m.Source) > 0 && !slices.Contains(m.Source, strings.ToLower(strings.TrimSpace(source))) {
		return false
	}
	if len(m.Segment) > 0 && !slices.Contains(m.Segment, strings.ToLower(strings.TrimSpace(segment))) {
		return false
	}
	return m.MinScore == nil || score >= *m.MinScore
}

// covers reports whether every lead that n matches is also matched by m,
// which makes a rule with n after a rule with m unreachable.
func (m Match) covers(n Match) bool {
	sub := func(big, small []string) bool {
		if len(big) == 0 {
			return true
		}
		if len(small) == 0 {
			return false
		}
		for _, s := range small {
			if !slices.Contains(big, s) {
				return false
			}
		}
		return true
	}
	if !sub(m.Source, n.Source) || !sub(m.Segment, n.Segment) {
		return false
	}
	return m.MinScore == nil || (n.MinScore != nil && *m.MinScore <= *n.MinScore)
}

// String says which leads m selects: "source demo_request, segment
// enterprise or mid_market, score 80 or more", or "every lead".
func (m Match) String() string {
	if m.IsCatchAll() {
		return "every lead"
	}
	var parts []string
	if len(m.Source) > 0 {
		parts = append(parts, "source "+orList(m.Source))
	}
	if len(m.Segment) > 0 {
		parts = append(parts, "segment "+orList(m.Segment))
	}
	if m.MinScore != nil {
		parts = append(parts, fmt.Sprintf("score %d or more", *m.MinScore))
	}
	return strings.Join(parts, ", ")
}

// RuleFor returns the first rule that matches a lead with this source,
// segment and score (source and segment compared without regard to case),
// or nil if none does, which a valid policy's catch-all rule prevents.
func (p *Policy) RuleFor(source, segment string, score int) *Rule {
	for i := range p.Rules {
		if p.Rules[i].Match.Matches(source, segment, score) {
			return &p.Rules[i]
		}
	}
	return nil
}

// Rule returns the rule with this name (case-insensitive), or nil.
func (p *Policy) Rule(name string) *Rule {
	for i := range p.Rules {
		if strings.EqualFold(p.Rules[i].Name, strings.TrimSpace(name)) {
			return &p.Rules[i]
		}
	}
	return nil
}

// TeamOf returns the team that has email among its reps (case-insensitive),
// or nil. A valid policy lists each rep in one team at most.
func (p *Policy) TeamOf(email string) *Team {
	email = strings.ToLower(strings.TrimSpace(email))
	for i := range p.Teams {
		if slices.Contains(p.Teams[i].Reps, email) {
			return &p.Teams[i]
		}
	}
	return nil
}

// Team returns the team with this name (case-insensitive), or nil.
func (p *Policy) Team(name string) *Team {
	for i := range p.Teams {
		if strings.EqualFold(p.Teams[i].Name, strings.TrimSpace(name)) {
			return &p.Teams[i]
		}
	}
	return nil
}

// CalendarFor is the business calendar that counts the SLA clock of the
// leads of team (case-insensitive): the team's own calendar when it has
// one, else the policy's (nil, 24×7 in UTC, for a nil policy or one
// without business hours). Deadlines, reminders, breaches and figures
// all go through it.
func (p *Policy) CalendarFor(team string) *Calendar {
	if p == nil {
		return nil
	}
	if !p.HasTeamCalendars() || team == "" {
		return p.Calendar
	}
	if t := p.Team(team); t != nil && t.Calendar != nil {
		return t.Calendar
	}
	return p.Calendar
}

// CalendarForLead is CalendarFor the lead's team: the team recorded on
// the lead, else the policy's team of its owner.
func (p *Policy) CalendarForLead(l *Lead) *Calendar {
	if p == nil || l == nil {
		return nil
	}
	if !p.HasTeamCalendars() {
		return p.Calendar
	}
	return p.CalendarFor(leadTeam(p, l))
}

// teamZone is the zone of team's own calendar, in which its leads'
// cadence windows count whole days; nil when the team keeps the policy's.
func (p *Policy) teamZone(team string) *time.Location {
	if !p.HasTeamCalendars() || team == "" {
		return nil
	}
	if t := p.Team(team); t != nil && t.Calendar != nil {
		return t.Calendar.Location()
	}
	return nil
}

// leadZone is teamZone of the lead's team (see CalendarForLead).
func (p *Policy) leadZone(l *Lead) *time.Location {
	if !p.HasTeamCalendars() || l == nil {
		return nil
	}
	return p.teamZone(leadTeam(p, l))
}

// RepZone is the zone a rep's working hours are read in when slabot does
// not know the rep's own: the zone of their team's own calendar, else the
// policy's. A rep in an EMEA team is thus not reminded on New York's
// clock.
func (p *Policy) RepZone(email string) *time.Location {
	if p == nil {
		return time.UTC
	}
	if p.HasTeamCalendars() {
		if t := p.TeamOf(email); t != nil && t.Calendar != nil {
			return t.Calendar.Location()
		}
	}
	return p.Location
}

// HasTeamCalendars reports whether any team has a calendar of its own.
func (p *Policy) HasTeamCalendars() bool {
	if p == nil {
		return false
	}
	for i := range p.Teams {
		if p.Teams[i].Calendar != nil {
			return true
		}
	}
	return false
}

// HasBusinessHours reports whether any lead's SLA clock stops outside
// business hours: the policy's calendar or a team's has them.
func (p *Policy) HasBusinessHours() bool {
	if p == nil {
		return false
	}
	if !p.Calendar.Always() {
		return true
	}
	for i := range p.Teams {
		if t := p.Teams[i].Calendar; t != nil && !t.Always() {
			return true
		}
	}
	return false
}

// LoadPolicy reads and checks the policy file at path; see ParsePolicy.
func LoadPolicy(path string, now time.Time) (*Policy, Problems) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("cannot read the policy file %s: %v", path, err)
		if os.IsNotExist(err) {
			msg = fmt.Sprintf("there is no policy file at %s: create it (see the example in the README) or set SLABOT_POLICY_FILE to its path", path)
		}
		return nil, Problems{{Message: msg}}
	}
	return ParsePolicy(data, now)
}

// Problem is one thing wrong (or, for a warning, worth a second look) in
// the policy file, with the key path ("rules[1].first_touch") and line it
// is about. Line is 0 when the problem is about the file as a whole.
type Problem struct {
	Path    string
	Line    int
	Message string
	Warning bool
}

// String writes the problem as "line 12: rules[1].first_touch: message"
// ("warning: " before the message for a warning).
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a policy file, in line order. It is
// an error listing them one per line; use Err to get a nil error when
// there are only warnings.
type Problems []Problem

// Error lists every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns only the warnings.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err returns the errors (not the warnings) as an error, or nil when there
// are none. Prefer it to comparing Problems with nil, which is non-nil
// when there are only warnings.
func (ps Problems) Err() error {
	if errs := ps.Errors(); len(errs) > 0 {
		return errs
	}
	return nil
}

// orList writes "a", "a or b", "a, b or c".
func orList(items []string) string { return joinWords(items, "or") }

// AndList writes "a", "a and b", "a, b and c": the one way slabot lists
// things in a sentence.
func AndList(items []string) string { return joinWords(items, "and") }

func joinWords(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

// Summary writes the agreement in plain words, for a new rep or a manager
// reading `slabot policy check`: what Sales owes each kind of lead, what
// Marketing delivers, the report, the teams and the review date.
func (p *Policy) Summary() string {
	var b strings.Builder
	zone := p.TimezoneName
	if zone == "" {
		zone = p.Location.String()
	}
	fmt.Fprintf(&b, "The Sales–Marketing agreement (times in %s)\n\n", zone)

	b.WriteString("Sales follows up every lead handed over by Marketing:\n")
	for i := range p.Rules {
		hours := ""
		switch {
		case p.HasTeamCalendars():
			hours = "on the calendar of the lead's team"
		case !p.Calendar.Always():
			hours = p.Calendar.String()
		}
		b.WriteString("- " + p.Rules[i].sentence(hours) + "\n")
	}
	if p.HasTeamCalendars() {
		b.WriteString("Business time is counted on the calendar of the lead's team: some teams have their own (see Sales teams below).\n")
	} else if p.Calendar.Always() {
		b.WriteString("The SLA clock runs around the clock, weekends and nights included.\n")
	}
	if p.Targets.FirstTouchOnTime > 0 {
		fmt.Fprintf(&b, "Sales aims to make the first touch on time for %s of leads.\n", FormatPercent(p.Targets.FirstTouchOnTime, PercentRate))
	}
	if a := p.Targets.Accepted; a > 0 {
		fmt.Fprintf(&b, "Sales aims to accept %s of the leads it decides on.\n", FormatPercent(a, PercentRate))
	}
	if q := p.Quality; q.Contesting() {
		who := slices.Clone(q.Contesters)
		if q.ContestChannel != "" {
			who = append([]string{"anyone outside Sales in " + q.ContestChannel}, who...)
		}
		fmt.Fprintf(&b, "Marketing may contest a rejection within %s (%s); the rep's manager decides.\n",
			FormatDuration(q.ContestWithin), AndList(who))
	}
	b.WriteString("Snoozing a lead silences its reminders but does not stop the SLA clock.\n")

	if t := p.Targets; t != (Targets{FirstTouchOnTime: t.FirstTouchOnTime, Accepted: t.Accepted}) {
		b.WriteString("\nTargets per calendar month:\n")
		if t.MQLs > 0 {
			fmt.Fprintf(&b, "- Marketing delivers %s MQLs.\n", countText(t.MQLs))
		}
		if t.MQLToSQL > 0 {
			fmt.Fprintf(&b, "- %s of MQLs become SQLs (MQL→SQL).\n", FormatPercent(t.MQLToSQL, PercentRate))
		}
		if t.SQLs > 0 {
			how := ""
			if t.SQLsDerived {
				how = fmt.Sprintf(" (%s × %s, rounded up)", countText(t.MQLs), FormatPercent(t.MQLToSQL, PercentRate))
			}
			fmt.Fprintf(&b, "- That is %s SQLs%s.\n", countText(t.SQLs), how)
		}
		if t.SQLToWon > 0 {
			line := fmt.Sprintf("- Sales wins %s of SQLs (SQL→won)", FormatPercent(t.SQLToWon, PercentRate))
			if t.SQLs > 0 {
				line += fmt.Sprintf(": %s deals", countText(ceilCount(float64(t.SQLs)*t.SQLToWon)))
			}
			b.WriteString(line + ".\n")
		}
		if t.Revenue > 0 {
			line := "- Revenue goal: " + amountText(t.Revenue)
			if t.DealSize > 0 {
				line += fmt.Sprintf(" at an average deal size of %s: %s deals", amountText(t.DealSize), countText(ceilCount(t.Revenue/t.DealSize)))
			}
			b.WriteString(line + ".\n")
		} else if t.DealSize > 0 {
			fmt.Fprintf(&b, "- Average deal size: %s.\n", amountText(t.DealSize))
		}
		if t.WinRate > 0 {
			line := "- Win rate: " + FormatPercent(t.WinRate, PercentRate)
			if t.Revenue > 0 && t.DealSize > 0 {
				if plan, err := PlanFromRevenue(t.Revenue, t.DealSize, t.WinRate, t.MQLToSQL); err == nil {
					line += fmt.Sprintf(", so the revenue goal needs %s SQLs", countText(plan.SQLs))
					if plan.MQLs > 0 {
						line += fmt.Sprintf(" (%s MQLs)", countText(plan.MQLs))
					}
				}
			}
			b.WriteString(line + ".\n")
		}
	}

	if p.Report.Channel != "" {
		fmt.Fprintf(&b, "\nBoth sides are measured on the same data: a status report goes to %s on the schedule %q (%s).\n", p.Report.Channel, p.Report.Schedule, zone)
	}

	if len(p.Teams) > 0 {
		b.WriteString("\nSales teams:\n")
		for _, t := range p.Teams {
			line := fmt.Sprintf("- %s: manager %s; reps %s", t.Name, t.Manager, AndList(t.Reps))
			if t.EscalationChannel != "" {
				line += "; breaches also go to " + t.EscalationChannel
			}
			if p.HasTeamCalendars() {
				line += "; " + p.teamCalendarText(&t)
			}
			b.WriteString(line + ".\n")
		}
	}

	b.WriteString(p.recycleSummary())
	b.WriteString(p.crmSummary())

	if !p.ReviewBy.IsZero() {
		fmt.Fprintf(&b, "\nThis agreement is to be reviewed by %s.\n", p.ReviewBy.Format("Monday 2 January 2006"))
	}
	if r := p.Review; len(r.Owners) > 0 || r.CapacityOpenLeads > 0 || r.RoutingDelay > 0 {
		cfg := p.ReviewSettings()
		fmt.Fprintf(&b, "\nThe review puts a breach down to routing when the lead took longer than %s to reach its rep, and to capacity when the rep already held %d open leads or more.",
			FormatDuration(cfg.RoutingDelay), cfg.CapacityOpenLeads)
		if len(r.Owners) > 0 {
			fmt.Fprintf(&b, " Besides the managers, %s may ask for it.", AndList(r.Owners))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// teamCalendarText says which calendar counts a team's SLA clock, for
// Summary: "its own calendar, Mon–Fri 09:00–17:00 Europe/Berlin, holidays
// 2026-12-24 and 2026-12-25", or "the policy's calendar (…)".
func (p *Policy) teamCalendarText(t *Team) string {
	if t.Calendar == nil {
		return "the policy's calendar (" + calendarText(p.Calendar, p.Location) + ")"
	}
	return "its own calendar, " + calendarText(t.Calendar, t.Calendar.Location())
}

// calendarText writes a calendar with its holidays for Summary:
// "Mon–Fri 09:00–17:00 Europe/Berlin, holidays 2026-12-24 and
// 2026-12-25", or "around the clock in Europe/Berlin".
func calendarText(c *Calendar, loc *time.Location) string {
	if c.Always() {
		if loc == nil {
			loc = c.Location()
		}
		return "around the clock in " + loc.String()
	}
	start, end := c.Hours()
	s := weekdaysText(c.Days()) + " " + start.String() + "–" + end.String()
	if end <= start {
		s += " (overnight)"
	}
	s += " " + c.Location().String()
	hs := c.Holidays()
	if len(hs) == 0 {
		return s + ", no holidays"
	}
	dates := make([]string, len(hs))
	for i, h := range hs {
		dates[i] = h.String()
	}
	return s + ", holidays " + AndList(dates)
}

// sentence is the rule in one sentence, as Summary prints it.
// hours says whose business hours count ("" for a 24×7 clock).
func (r *Rule) sentence(hours string) string {
	var b strings.Builder
	b.WriteString(ruleTitle(r))
	if r.Match.IsCatchAll() {
		b.WriteString(" (every other lead): ")
	} else {
		b.WriteString(" (" + r.Match.String() + "): ")
	}
	if hours == "" {
		fmt.Fprintf(&b, "first touch within %s", FormatDuration(r.FirstTouch))
	} else {
		fmt.Fprintf(&b, "first touch within %s (%s)", businessDuration(r.FirstTouch), hours)
	}
	if r.AcceptWithin > 0 {
		if hours == "" {
			fmt.Fprintf(&b, "; accepted within %s", FormatDuration(r.AcceptWithin))
		} else {
			fmt.Fprintf(&b, "; accepted within %s", businessDuration(r.AcceptWithin))
		}
	}
	if r.Touches.Count > 0 {
		touches := "touches"
		if r.Touches.Count == 1 {
			touches = "touch"
		}
		fmt.Fprintf(&b, "; at least %d %s within %s", r.Touches.Count, touches, FormatDuration(r.Touches.Within))
	}
	switch len(r.RemindBefore) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "; a reminder %s before the deadline", FormatDuration(r.RemindBefore[0]))
	default:
		ds := make([]string, len(r.RemindBefore))
		for i, d := range r.RemindBefore {
			ds[i] = FormatDuration(d)
		}
		fmt.Fprintf(&b, "; reminders %s before the deadline", AndList(ds))
	}
	if len(r.OnBreach) > 0 {
		var acts []string
		for _, a := range r.OnBreach {
			acts = append(acts, breachSentence(a))
		}
		b.WriteString("; on breach " + AndList(acts))
	} else {
		b.WriteString("; a breach is recorded for the weekly report")
	}
	return b.String() + "."
}

// breachSentence says what the action does, to follow "on breach": "the
// manager is told".
func breachSentence(a BreachAction) string {
	switch a {
	case ActionNotifyManager:
		return "the manager is told"
	case ActionReassign:
		return "the lead is reassigned"
	case ActionReturnToMarketing:
		return "the lead goes back to Marketing"
	}
	return string(a)
}

// ruleTitle makes a rule name readable: "demo-request" → "Demo request".
func ruleTitle(r *Rule) string {
	s := strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(r.Name))
	if s == "" {
		return "Unnamed rule"
	}
	first, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(first)) + s[size:]
}

// businessDuration says a duration in business time: "15 business
// minutes", "1 hour 30 minutes of business time".
func businessDuration(d time.Duration) string {
	s := FormatDuration(d)
	if n, unit, ok := strings.Cut(s, " "); ok && !strings.Contains(unit, " ") {
		return n + " business " + unit
	}
	return s + " of business time"
}

// WithSeconds reports whether the schedule is a 6-field cron spec whose
// first field is seconds, as schedulers such as gocron need to be told.
func (r ReportConfig) WithSeconds() bool {
	return !strings.HasPrefix(strings.TrimSpace(r.Schedule), "@") && len(strings.Fields(r.Schedule)) == 6
}
