package bot

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file reads the text of /sla into a command. It is pure: no clock, no
// store, no platform; every refusal is a *parseError that says what was
// wrong and shows a correct call. A person named in a command arrives as a
// person token (PersonToken), whatever the platform.

// Kinds of /sla command.
const (
	cmdHelp    = "help"
	cmdStatus  = "status"
	cmdLeads   = "leads"
	cmdFunnel  = "funnel"
	cmdPlan    = "plan"
	cmdPolicy  = "policy"
	cmdAway    = "away"
	cmdBack    = "back"
	cmdReport  = "report"
	cmdHome    = "home"
	cmdSources = "sources"
	cmdSpeed   = "speed"
	cmdQuality = "quality"
	cmdReview  = "review"
)

// commandNames are the commands in the order the help lists them.
var commandNames = []string{cmdStatus, cmdLeads, cmdFunnel, cmdSources, cmdSpeed, cmdQuality, cmdReview, cmdPlan, cmdPolicy, cmdAway, cmdBack, cmdReport, cmdHome, cmdHelp}

// commandAliases are other words people type for a command.
var commandAliases = map[string]string{
	"stats": cmdStatus, "stat": cmdStatus, "lead": cmdLeads, "queue": cmdLeads, "mine": cmdLeads,
	"ooo": cmdAway, "vacation": cmdAway, "holiday": cmdAway, "?": cmdHelp, "commands": cmdHelp,
	"dashboard": cmdHome, "source": cmdSources, "scorecard": cmdSources,
}

// commandUsage is a correct call of each command, used in help and errors.
var commandUsage = map[string]string{
	cmdStatus:  "status [@rep | team | all] [week | month | quarter] [share]",
	cmdLeads:   "leads",
	cmdFunnel:  "funnel [week | month | quarter | november | 2026-11] [share]",
	cmdPlan:    "plan revenue=5000 deal=100 win=0.5 [mql_to_sql=0.25] [share]",
	cmdPolicy:  "policy [share]",
	cmdAway:    "away [@rep] [until 2026-12-01 | until monday]",
	cmdBack:    "back [@rep]",
	cmdReport:  "report",
	cmdHome:    "home",
	cmdHelp:    "help",
	cmdSources: "sources [month | 2026-05 | last 90d | cohort 2026-05 window 180d] [by source | segment | rule | score] [share]",
	cmdSpeed:   "speed [month | 2026-05 | last 90d] [rule NAME] [pooled] [share]",
	cmdQuality: "quality [week | month | quarter | november | 2026-11] [by source] [share]",
	cmdReview:  "review [months 6] [share]",
}

// A person someone names in a command reaches the core as one token,
// whatever the platform: personOpen, the person's user id on the platform
// (what Chat.FindPersonByID takes), personSeparator, the name the
// platform showed (maybe empty, maybe with spaces), personClose. The marks
// are Unicode noncharacters, which Unicode sets aside for a program's own
// use: no keyboard types them and no platform sends them, and an adapter
// scrubs any from the text people typed (ScrubPersonTokens) before it puts
// in its own, so only an adapter makes a token. tokenize keeps a token
// whole, spaces in the name included. Each adapter turns its platform's
// mentions into tokens before it calls Answer; the grammar knows no other
// form of a mention.
const (
	personOpen      = "\uFDD0"
	personSeparator = "\uFDD1"
	personClose     = "\uFDD2"
)

var (
	personMarks   = strings.NewReplacer(personOpen, "", personSeparator, "", personClose, "")
	personTokenRe = regexp.MustCompile(personOpen + "([^" + personOpen + personSeparator + personClose + "]+)" +
		personSeparator + "([^" + personOpen + personSeparator + personClose + "]*)" + personClose)
)

// PersonToken is the token an adapter puts in a command's text for a
// person it mentions: their user id on the platform, and the name it
// showed.
func PersonToken(userID, name string) string {
	return personOpen + ScrubPersonTokens(userID) + personSeparator + ScrubPersonTokens(name) + personClose
}

// ScrubPersonTokens removes the marks of person tokens from text people
// typed, so that nobody can make a token but the adapter.
func ScrubPersonTokens(text string) string { return personMarks.Replace(text) }

// readable shows text that may hold person tokens as people wrote it:
// each token as @ and the person's name.
func readable(text string) string {
	return personTokenRe.ReplaceAllStringFunc(text, func(tok string) string {
		m := personTokenRe.FindStringSubmatch(tok)
		if m[2] != "" {
			return "@" + m[2]
		}
		return "@" + m[1]
	})
}

// said quotes words someone typed in a refusal, as they wrote them.
func said(words ...string) string { return engine.Quote(readable(strings.Join(words, " "))) }

// person is someone named in a command: a person token, a bare @handle the
// platform did not turn into a mention, or an email.
type person struct {
	UserID string
	Name   string // as the platform showed it, with the user id
	Handle string
	Email  string
}

func (p person) zero() bool { return p == person{} }

// Scopes of /sla status.
const (
	scopeDefault = ""
	scopeRep     = "rep"
	scopeTeam    = "team"
	scopeAll     = "all"
)

// dateSpec is a return date as written, resolved against a clock later:
// an absolute date, "tomorrow", or the next such weekday.
type dateSpec struct {
	Year     int
	Month    time.Month
	Day      int
	Tomorrow bool
	Weekday  time.Weekday
	HasWkday bool
	Text     string
}

// command is a parsed /sla command.
type command struct {
	Kind string
	// Share posts the answer in the channel instead of privately.
	Share bool

	// status: the scope, and the period (week, month, quarter; "" for the default).
	Scope  string
	Person person
	Team   string
	Period string

	// funnel: a named month (Month != 0; Year 0 for the latest such month).
	Year  int
	Month time.Month

	// quality: by source.
	BySource bool

	// review: how many full months to look back (0: the default).
	Months int

	// plan
	Revenue, Deal, Win, MQLToSQL float64
	HasMQLToSQL                  bool

	// away: until when (nil for no end date).
	Until *dateSpec

	// sources and speed: the period as written (resolved against the
	// clock later), the grouping, the one rule, and pooled rules.
	Words  []string
	By     engine.GroupBy
	Rule   string
	Pooled bool
}

// parseError is a refusal of a command, with what to type instead.
type parseError struct {
	// Msg says what is wrong, in words for the person who typed it.
	Msg view.Text
	// Usage is a correct call of the command the person meant ("" for the help).
	Usage string
	// Unknown is the word that named no command; Suggest the closest command.
	Unknown, Suggest string
}

// text is the refusal as its reader sees it: what is wrong, and a correct
// call of the command by the name it was typed as.
func (e *parseError) text(name string) view.Text {
	if e.Usage == "" {
		return e.Msg
	}
	return view.T(e.Msg, " Try: ", commandExample(name, e.Usage))
}

// Error is the refusal in view's plain markup, for logs and tests.
func (e *parseError) Error() string { return e.text("/sla").String() }

// usageError refuses a command of this kind with view.T's parts, showing
// a correct call.
func usageError(kind string, parts ...any) *parseError {
	return &parseError{Msg: view.T(parts...), Usage: commandUsage[kind]}
}

// tokenize splits the text at spaces, keeping each person token whole.
func tokenize(text string) []string {
	var out []string
	var cur strings.Builder
	inToken := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range text {
		switch {
		case string(r) == personOpen:
			inToken = true
		case string(r) == personClose:
			inToken = false
		case unicode.IsSpace(r) && !inToken:
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

var (
	emailRe  = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)
	handleRe = regexp.MustCompile(`^@[\p{L}\p{N}._-]+$`)
)

// parsePerson reads a person token, a bare @handle or an email; ok is
// false for anything else.
func parsePerson(tok string) (person, bool) {
	if m := personTokenRe.FindStringSubmatch(tok); m != nil && m[0] == tok {
		return person{UserID: m[1], Name: m[2]}, true
	}
	if emailRe.MatchString(tok) {
		return person{Email: strings.ToLower(tok)}, true
	}
	if handleRe.MatchString(tok) {
		return person{Handle: tok[1:]}, true
	}
	return person{}, false
}

// parseCommand reads the text after /sla.
func parseCommand(text string) (command, error) {
	toks := tokenize(text)
	if len(toks) == 0 {
		return command{Kind: cmdHelp}, nil
	}
	word := strings.ToLower(toks[0])
	kind := word
	if a, ok := commandAliases[word]; ok {
		kind = a
	}
	if _, ok := commandUsage[kind]; !ok {
		return command{}, &parseError{Msg: view.T("I don't know the command " + said(toks[0]) + "."),
			Unknown: toks[0], Suggest: closestCommand(word)}
	}
	c := command{Kind: kind}
	args := toks[1:]
	// "share" may come anywhere after the command.
	rest := args[:0:0]
	for _, a := range args {
		if strings.EqualFold(a, "share") {
			c.Share = true
			continue
		}
		rest = append(rest, a)
	}
	var err error
	switch kind {
	case cmdHelp, cmdLeads, cmdPolicy, cmdReport, cmdHome:
		if len(rest) > 0 && kind != cmdHelp {
			return command{}, usageError(kind, view.C(kind), " takes no more words, but got "+said(rest...)+".")
		}
	case cmdStatus:
		err = c.parseStatus(rest)
	case cmdFunnel:
		err = c.parseFunnel(rest)
	case cmdQuality:
		err = c.parseQuality(rest)
	case cmdReview:
		err = c.parseReview(rest)
	case cmdPlan:
		err = c.parsePlan(rest)
	case cmdAway:
		err = c.parseAway(rest)
	case cmdBack:
		err = c.parseBack(rest)
	case cmdSources, cmdSpeed:
		err = c.parseScorecard(rest)
	}
	if err != nil {
		return command{}, err
	}
	if c.Share && (kind == cmdLeads || kind == cmdAway || kind == cmdBack || kind == cmdReport || kind == cmdHome) {
		return command{}, usageError(kind, view.C(kind), " answers only you, so it cannot be shared.")
	}
	return c, nil
}

func isPeriod(w string) bool { return w == "week" || w == "month" || w == "quarter" }

func (c *command) parseStatus(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		w := strings.ToLower(a)
		switch {
		case isPeriod(w):
			if c.Period != "" {
				return usageError(cmdStatus, "Give one period, not both "+said(c.Period)+" and "+said(w)+".")
			}
			c.Period = w
		case w == "all" || w == "everyone":
			if c.Scope != scopeDefault {
				return usageError(cmdStatus, "Ask for one scope at a time: a rep, your team, or all.")
			}
			c.Scope = scopeAll
		case w == "team" || w == "my-team":
			if c.Scope != scopeDefault {
				return usageError(cmdStatus, "Ask for one scope at a time: a rep, your team, or all.")
			}
			c.Scope = scopeTeam
			// "team sdr-east" names a team; a following period word does not.
			if i+1 < len(args) {
				next := strings.ToLower(args[i+1])
				if !isPeriod(next) && next != "all" && next != "share" {
					if _, isPerson := parsePerson(args[i+1]); !isPerson {
						c.Team = args[i+1]
						i++
					}
				}
			}
		default:
			p, ok := parsePerson(a)
			if !ok {
				if s := closestWord(w, []string{"week", "month", "quarter", "team", "all", "share"}); s != "" {
					return usageError(cmdStatus, "I don't understand "+said(a)+": did you mean ", view.C(s), "?")
				}
				return usageError(cmdStatus, "I don't understand "+said(a)+": name a rep with @, or say team, all, week, month or quarter.")
			}
			if c.Scope != scopeDefault {
				return usageError(cmdStatus, "Ask for one scope at a time: a rep, your team, or all.")
			}
			c.Scope, c.Person = scopeRep, p
		}
	}
	return nil
}

var monthNames = map[string]time.Month{}

func init() {
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		monthNames[name] = m
		monthNames[name[:3]] = m
	}
	monthNames["sept"] = time.September
}

var yearMonthRe = regexp.MustCompile(`^(\d{4})-(\d{1,2})$`)

func (c *command) parseFunnel(args []string) error {
	if len(args) > 1 {
		return usageError(cmdFunnel, view.C(cmdFunnel), " takes one period at most, but got "+said(args...)+".")
	}
	if len(args) == 0 {
		return nil
	}
	w := strings.ToLower(args[0])
	if isPeriod(w) {
		c.Period = w
		return nil
	}
	if m, ok := monthNames[w]; ok {
		c.Period, c.Month = "month", m
		return nil
	}
	if m := yearMonthRe.FindStringSubmatch(w); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo < 1 || mo > 12 || y < 2000 || y > 2200 {
			return usageError(cmdFunnel, said(args[0])+" is not a month: write it as YYYY-MM, like 2026-11.")
		}
		c.Period, c.Year, c.Month = "month", y, time.Month(mo)
		return nil
	}
	return usageError(cmdFunnel, said(args[0])+" is not a period: say week, month, quarter, a month's name or YYYY-MM.")
}

// planKeys maps what people write to the plan's inputs.
var planKeys = map[string]string{
	"revenue": "revenue", "goal": "revenue",
	"deal": "deal", "deal_size": "deal", "dealsize": "deal", "deal-size": "deal",
	"win": "win", "win_rate": "win", "winrate": "win", "win-rate": "win",
	"mql_to_sql": "mql_to_sql", "mql-to-sql": "mql_to_sql", "mqltosql": "mql_to_sql", "mql_sql": "mql_to_sql",
}

func (c *command) parsePlan(args []string) error {
	seen := map[string]bool{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		key := planKeys[strings.ToLower(k)]
		if !ok {
			if key != "" {
				return usageError(cmdPlan, fmt.Sprintf("Write %s with an = and a number, like %s=%s.", said(k), key, planExample[key]))
			}
			return usageError(cmdPlan, "I don't understand "+said(a)+": give each number as name=value.")
		}
		if key == "" {
			if s := closestWord(strings.ToLower(k), []string{"revenue", "deal", "win", "mql_to_sql"}); s != "" {
				return usageError(cmdPlan, said(k)+" is not something a plan takes: did you mean "+s+"?")
			}
			return usageError(cmdPlan, said(k)+" is not something a plan takes: use revenue, deal, win and optionally mql_to_sql.")
		}
		if seen[key] {
			return usageError(cmdPlan, key+" is given twice.")
		}
		seen[key] = true
		x, err := parseAmount(v, key != "revenue" && key != "deal")
		if err != nil {
			return usageError(cmdPlan, fmt.Sprintf("%s is not a number for %s (%s).", said(v), key, err))
		}
		switch key {
		case "revenue":
			c.Revenue = x
		case "deal":
			c.Deal = x
		case "win":
			c.Win = x
		case "mql_to_sql":
			c.MQLToSQL, c.HasMQLToSQL = x, true
		}
	}
	var missing []string
	for _, k := range []string{"revenue", "deal", "win"} {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return usageError(cmdPlan, "A plan needs the monthly revenue goal, the average deal size and the win rate; "+engine.AndList(missing)+isAre(len(missing))+" missing.")
	}
	return nil
}

var planExample = map[string]string{"revenue": "5000", "deal": "100", "win": "0.5", "mql_to_sql": "0.25"}

func isAre(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}

// parseAmount reads 5000, 5,000, $5000, 5k, 2.5m, and for rates 0.5 or 50%.
func parseAmount(s string, rate bool) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("nothing after the =")
	}
	t = strings.TrimPrefix(t, "$")
	t = strings.ReplaceAll(t, ",", "")
	t = strings.ReplaceAll(t, "_", "")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "%"):
		if !rate {
			return 0, fmt.Errorf("a percentage only fits a rate")
		}
		t, mult = strings.TrimSuffix(t, "%"), 0.01
	case strings.HasSuffix(strings.ToLower(t), "k") && !rate:
		t, mult = t[:len(t)-1], 1e3
	case strings.HasSuffix(strings.ToLower(t), "m") && !rate:
		t, mult = t[:len(t)-1], 1e6
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || strings.ContainsAny(t, "xXpPiInN") {
		return 0, fmt.Errorf("write digits, like %s", map[bool]string{true: "0.5 or 50%", false: "5000"}[rate])
	}
	return x * mult, nil
}

func (c *command) parseAway(args []string) error {
	i := 0
	if i < len(args) {
		if p, ok := parsePerson(args[i]); ok {
			c.Person = p
			i++
		}
	}
	if i == len(args) {
		return nil
	}
	if strings.EqualFold(args[i], "until") || strings.EqualFold(args[i], "till") || strings.EqualFold(args[i], "til") {
		i++
	}
	if i == len(args) {
		return usageError(cmdAway, "Say until when after “until”.")
	}
	spec, err := parseDate(strings.Join(args[i:], " "))
	if err != nil {
		return usageError(cmdAway, err.Error())
	}
	c.Until = &spec
	return nil
}

func (c *command) parseBack(args []string) error {
	if len(args) == 0 {
		return nil
	}
	p, ok := parsePerson(args[0])
	if !ok || len(args) > 1 {
		return usageError(cmdBack, view.C(cmdBack), " takes at most one person, named with @, but got "+said(args...)+".")
	}
	c.Person = p
	return nil
}

var (
	isoDateRe  = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	monthDayRe = regexp.MustCompile(`^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$`)
	dayMonthRe = regexp.MustCompile(`^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?$`)
)

// parseDate reads a return date: 2026-12-01, Dec 1, 1 December 2026,
// tomorrow, or a weekday (the next one).
func parseDate(s string) (dateSpec, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	bad := func() (dateSpec, error) {
		return dateSpec{}, fmt.Errorf("I can't read %s as a date: write it like 2026-12-01, Dec 1, tomorrow or monday.", said(s))
	}
	spec := dateSpec{Text: strings.TrimSpace(s)}
	if t == "tomorrow" {
		spec.Tomorrow = true
		return spec, nil
	}
	if d, ok := engine.ParseWeekday(strings.TrimPrefix(t, "next ")); ok {
		spec.Weekday, spec.HasWkday = d, true
		return spec, nil
	}
	var y, d int
	var m time.Month
	switch {
	case isoDateRe.MatchString(t):
		g := isoDateRe.FindStringSubmatch(t)
		y, _ = strconv.Atoi(g[1])
		mo, _ := strconv.Atoi(g[2])
		d, _ = strconv.Atoi(g[3])
		if mo < 1 || mo > 12 {
			return bad()
		}
		m = time.Month(mo)
	case monthDayRe.MatchString(t):
		g := monthDayRe.FindStringSubmatch(t)
		mo, ok := monthNames[g[1]]
		if !ok {
			return bad()
		}
		m = mo
		d, _ = strconv.Atoi(g[2])
		if g[3] != "" {
			y, _ = strconv.Atoi(g[3])
		}
	case dayMonthRe.MatchString(t):
		g := dayMonthRe.FindStringSubmatch(t)
		mo, ok := monthNames[g[2]]
		if !ok {
			return bad()
		}
		m = mo
		d, _ = strconv.Atoi(g[1])
		if g[3] != "" {
			y, _ = strconv.Atoi(g[3])
		}
	default:
		return bad()
	}
	check := y
	if check == 0 {
		check = 2028 // a leap year, so Feb 29 without a year is allowed here
	}
	if d < 1 || time.Date(check, m, d, 12, 0, 0, 0, time.UTC).Day() != d || (y != 0 && (y < 2000 || y > 2200)) {
		return dateSpec{}, fmt.Errorf("%s is not a date on the calendar.", said(s))
	}
	spec.Year, spec.Month, spec.Day = y, m, d
	return spec, nil
}

// resolve turns the date into the start of that day in loc, the first such
// date after now (today counts for a weekday only when it is not today).
func (d dateSpec) resolve(now time.Time, loc *time.Location) time.Time {
	lt := now.In(loc)
	today := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	switch {
	case d.Tomorrow:
		return today.AddDate(0, 0, 1)
	case d.HasWkday:
		ahead := (int(d.Weekday) - int(lt.Weekday()) + 7) % 7
		if ahead == 0 {
			ahead = 7
		}
		return today.AddDate(0, 0, ahead)
	}
	y := d.Year
	if y == 0 {
		y = lt.Year()
		if !time.Date(y, d.Month, d.Day, 0, 0, 0, 0, loc).After(now) {
			y++
		}
	}
	return time.Date(y, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// closestCommand suggests the command nearest to a mistyped word, or "".
func closestCommand(word string) string {
	cands := append([]string(nil), commandNames...)
	for a := range commandAliases {
		cands = append(cands, a)
	}
	s := closestWord(word, cands)
	if a, ok := commandAliases[s]; ok {
		return a
	}
	return s
}

// closestWord is the candidate within a small edit distance of word (or
// that word starts), preferring the nearest, then the first listed; "" if
// none is close.
func closestWord(word string, cands []string) string {
	w := strings.ToLower(word)
	if w == "" || utf8.RuneCountInString(w) > 40 {
		return ""
	}
	best, bestD := "", math.MaxInt
	for _, c := range cands {
		d := engine.EditDistance(w, c)
		if (len(w) >= 2 && strings.HasPrefix(c, w)) || (len(c) >= 3 && strings.HasPrefix(w, c)) {
			d = min(d, 1)
		}
		limit := 2
		if utf8.RuneCountInString(c) <= 4 {
			limit = 1
		}
		if d <= limit && (d < bestD || (d == bestD && indexOf(commandNames, c) >= 0 && indexOf(commandNames, best) < 0)) {
			best, bestD = c, d
		}
	}
	return best
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
