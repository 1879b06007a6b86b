package engine

import (
	"cmp"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// The keys each section of the policy file knows, in the order they are
// suggested. A key outside these lists is a problem: a typo in a policy
// silently ignored is an SLA nobody enforces.
var (
	topKeys           = []string{"timezone", "business_hours", "holidays", "review_by", "report", "targets", "teams", "rules"}
	businessHoursKeys = []string{"days", "start", "end"}
	reportKeys        = []string{"channel", "schedule"}
	targetKeys        = []string{"mqls", "sqls", "mql_to_sql", "sql_to_won", "revenue", "deal_size", "win_rate", "first_touch_on_time"}
	teamKeys          = []string{"name", "manager", "escalation_channel", "reps"}
	ruleKeys          = []string{"name", "match", "team", "first_touch", "touches", "remind_before", "on_breach"}
	matchKeys         = []string{"source", "segment", "min_score"}
	touchesKeys       = []string{"count", "within"}
)

// ParsePolicy reads and checks a policy file. It reports every problem at
// once, each with its key path and line, so that one run of `slabot policy
// check` shows everything to fix. The *Policy is nil when there is any
// error; warnings (such as a review date in the past, judged against now)
// come back with a usable policy.
//
// A missing timezone means UTC; missing business_hours means the clock
// runs 24×7; business_hours without days means Monday to Friday; a report
// channel without a schedule is posted DefaultReportSchedule.
func ParsePolicy(data []byte, now time.Time) (*Policy, Problems) {
	c := &policyChecker{now: now}
	p := c.parse(data)
	slices.SortStableFunc(c.probs, func(a, b Problem) int { return a.Line - b.Line })
	if len(c.probs.Errors()) > 0 {
		return nil, c.probs
	}
	return p, c.probs
}

type policyChecker struct {
	now   time.Time
	probs Problems
}

func (c *policyChecker) errorf(n *yaml.Node, path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Line: nodeLine(n), Message: fmt.Sprintf(format, args...)})
}

func (c *policyChecker) warnf(n *yaml.Node, path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Line: nodeLine(n), Message: fmt.Sprintf(format, args...), Warning: true})
}

func nodeLine(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// yamlLine finds the line in a YAML syntax error ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

const policySkeleton = "a policy needs at least timezone:, teams: and rules: (see the example in the README)"

func (c *policyChecker) parse(data []byte) *Policy {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		hint := ""
		if strings.Contains(msg, "cannot start any token") || strings.Contains(msg, "tab") {
			hint = " (indent with spaces, not tabs)"
		}
		c.probs = append(c.probs, Problem{Line: line, Message: "this is not valid YAML: " + msg + hint})
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		c.probs = append(c.probs, Problem{Message: "the policy file is empty: " + policySkeleton})
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		c.probs = append(c.probs, Problem{Line: root.Line, Message: "the policy file is empty: " + policySkeleton})
		return nil
	}
	if root.Kind != yaml.MappingNode {
		c.errorf(root, "", "the policy file should be a list of keys like timezone:, teams: and rules:, but it is %s", kindText(root))
		return nil
	}

	p := &Policy{TimezoneName: "UTC", Location: time.UTC}
	top := c.mapping(root, "", topKeys)

	if n := top["timezone"]; n != nil {
		if name, ok := c.str(n, "timezone"); ok {
			c.timezone(p, n, name)
		}
	}
	var holidays []CalendarDate
	if n := top["holidays"]; n != nil {
		holidays = c.holidays(p, n)
	}
	if n := top["business_hours"]; n != nil {
		c.businessHours(p, n, holidays)
	} else if len(holidays) > 0 {
		c.warnf(top["holidays"], "holidays", "holidays have no effect without business_hours: the SLA clock runs 24×7, holidays included")
	}
	if n := top["review_by"]; n != nil {
		c.reviewBy(p, n)
	}
	if n := top["report"]; n != nil {
		c.report(p, n)
	}
	if n := top["targets"]; n != nil {
		c.targets(p, n)
	} else {
		p.Targets.FirstTouchOnTime = DefaultFirstTouchOnTime
	}
	if n := top["teams"]; n != nil {
		c.teams(p, n)
	} else {
		c.errorf(root, "teams", "the policy has no teams: list at least one team with its name, manager and reps")
	}
	if n := top["rules"]; n != nil {
		c.rules(p, n)
	} else {
		c.errorf(root, "rules", "the policy has no rules: add at least one that matches every lead, like\n  - name: default\n    first_touch: 4h")
	}
	return p
}

// resolve follows YAML aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a set of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("the single value %q", n.Value)
	}
	return "something else"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping checks that n is a mapping with only known keys, each once, and
// returns the value node of each key present. A key given without a value
// ("first_touch:") is present with a null node.
func (c *policyChecker) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			c.errorf(n, path, "has no value: give it the keys %s", andList(known))
		} else {
			c.errorf(n, path, "should be a set of keys (%s), but it is %s", andList(known), kindText(n))
		}
		return out
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := k.Value
		kp := joinPath(path, key)
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, path, "a key must be a plain word, not %s", kindText(k))
			continue
		}
		if !slices.Contains(known, key) {
			msg := fmt.Sprintf("%q is not a key slabot knows here", key)
			if s := closestKey(key, known); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			} else {
				msg += ": the keys are " + andList(known)
			}
			c.errorf(k, kp, "%s", msg)
			continue
		}
		if first, dup := lines[key]; dup {
			c.errorf(k, kp, "appears twice (first on line %d): keep one", first)
			continue
		}
		lines[key] = k.Line
		out[key] = v
	}
	return out
}

// closestKey suggests the known key nearest to a misspelt one, or "".
func closestKey(key string, known []string) string {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(key)), "-", "_")
	norm = strings.ReplaceAll(norm, " ", "_")
	best, bestD := "", math.MaxInt
	for _, k := range known {
		if d := keyDistance(norm, k); d < bestD {
			best, bestD = k, d
		}
	}
	limit := max(2, len([]rune(key))/3)
	if bestD <= limit {
		return best
	}
	return ""
}

// keyDistance is the Levenshtein distance between a and b.
func keyDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// str reads a single text value.
func (c *policyChecker) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, path, "should be a single value, but it is %s", kindText(n))
		return "", false
	}
	if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		c.errorf(n, path, "has no value")
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// strItem is one text value of a list, with where it came from.
type strItem struct {
	val  string
	node *yaml.Node
	path string
}

// strList reads a list of text values; a single value is a list of one.
// Values with a problem are reported and left out.
func (c *policyChecker) strList(n *yaml.Node, path string) ([]strItem, bool) {
	if n.Kind == yaml.ScalarNode {
		s, ok := c.str(n, path)
		if !ok {
			return nil, false
		}
		return []strItem{{s, n, path}}, true
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, path, "should be a value or a list of values, but it is %s", kindText(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		c.errorf(n, path, "is an empty list")
		return nil, false
	}
	var out []strItem
	ok := true
	for i, item := range n.Content {
		item = resolve(item)
		ip := fmt.Sprintf("%s[%d]", path, i)
		s, good := c.str(item, ip)
		ok = ok && good
		if good {
			out = append(out, strItem{s, item, ip})
		}
	}
	return out, ok
}

// items returns the entries of a list.
func (c *policyChecker) items(n *yaml.Node, path, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			c.errorf(n, path, "has no value: list the %s, one per line starting with \"- \"", what)
		} else {
			c.errorf(n, path, "should be a list of %s (one per line starting with \"- \"), but it is %s", what, kindText(n))
		}
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = resolve(item)
	}
	return out
}

// count reads a whole number that may not be negative.
func (c *policyChecker) count(n *yaml.Node, path string) (int, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !math.IsInf(f, 0) {
			c.errorf(n, path, "%s is not a whole number: write a count such as %d", s, int64(math.Round(f)))
		} else {
			c.errorf(n, path, "%q is not a number: write digits only, like 1800 (no commas)", s)
		}
		return 0, false
	}
	if v < 0 {
		c.errorf(n, path, "cannot be negative (it is %d)", v)
		return 0, false
	}
	return v, true
}

// amount reads a non-negative number such as a revenue goal.
func (c *policyChecker) amount(n *yaml.Node, path string) (float64, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		c.errorf(n, path, "%q is not a number: write digits only, like 5000 (no commas or currency signs)", s)
		return 0, false
	}
	if v < 0 {
		c.errorf(n, path, "cannot be negative (it is %s)", s)
		return 0, false
	}
	return v, true
}

// rate reads a share between 0 and 1; "25%" is accepted as 0.25.
func (c *policyChecker) rate(n *yaml.Node, path string) (float64, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return 0, false
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		c.errorf(n, path, "%q is not a rate: write a fraction between 0 and 1, like 0.25 for 25%%", s)
		return 0, false
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		msg := fmt.Sprintf("%s is outside 0–1: rates are fractions, like 0.25 for 25%%", s)
		if !pct && v >= 2 && v <= 100 {
			// 25 most likely means 25%; 1.5 could mean 1.5% or 150%, so
			// only whole-percent-looking numbers get a guess.
			msg = fmt.Sprintf("%s is outside 0–1: rates are fractions, so for %s%% write %s", s, s, strconv.FormatFloat(v/100, 'f', -1, 64))
		}
		c.errorf(n, path, "%s", msg)
		return 0, false
	}
	return v, true
}

// duration reads a duration such as 15m or 4h.
func (c *policyChecker) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		c.errorf(n, path, "%s", ErrorMessage(err))
		return 0, false
	}
	return d, true
}

// maxPolicyDuration caps every duration in the policy. Nothing in a lead's
// SLA sensibly runs longer, and the cap keeps the business clock's
// day-by-day stepping cheap even on a calendar open a few minutes a week.
const maxPolicyDuration = 365 * durDay

// positiveDuration reads a duration that must be longer than zero and at
// most a year.
func (c *policyChecker) positiveDuration(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := c.duration(n, path)
	switch {
	case ok && d <= 0:
		c.errorf(n, path, "must be longer than 0, like 15m or 4h")
		return 0, false
	case ok && d > maxPolicyDuration:
		c.errorf(n, path, "%s is longer than a year: write at most 365d", FormatDuration(d))
		return 0, false
	}
	return d, ok
}

func (c *policyChecker) timezone(p *Policy, n *yaml.Node, name string) {
	if name == "Local" {
		c.errorf(n, "timezone", "write the zone's name, like America/New_York or Europe/Berlin, not Local: the server's zone may differ from the team's")
		return
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		c.errorf(n, "timezone", "%q is not a time zone: use a name from the IANA time zone database, like America/New_York, Europe/Berlin or UTC", name)
		return
	}
	p.TimezoneName, p.Location = name, loc
}

func (c *policyChecker) holidays(p *Policy, n *yaml.Node) []CalendarDate {
	var out []CalendarDate
	seen := map[CalendarDate]bool{}
	for i, item := range c.items(n, "holidays", "holiday dates (YYYY-MM-DD)") {
		path := fmt.Sprintf("holidays[%d]", i)
		s, ok := c.str(item, path)
		if !ok {
			continue
		}
		d, err := ParseCalendarDate(s)
		if err != nil {
			c.errorf(item, path, "%s", ErrorMessage(err))
			continue
		}
		if seen[d] {
			c.warnf(item, path, "%s is listed twice", d)
			continue
		}
		seen[d] = true
		out = append(out, d)
		p.Holidays = append(p.Holidays, d.String())
	}
	return out
}

// weekdayNames maps what people write for a day to the day.
var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// parseWeekdays reads "mon", "Monday" or a range "mon-fri" (which may wrap
// over the weekend: "sat-mon").
func parseWeekdays(s string) ([]time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	from, to, isRange := strings.Cut(strings.ReplaceAll(s, "–", "-"), "-")
	a, ok := weekdayNames[strings.TrimSpace(from)]
	if !ok {
		return nil, false
	}
	if !isRange {
		return []time.Weekday{a}, true
	}
	b, ok := weekdayNames[strings.TrimSpace(to)]
	if !ok {
		return nil, false
	}
	var days []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == b {
			return days, true
		}
	}
}

func (c *policyChecker) businessHours(p *Policy, n *yaml.Node, holidays []CalendarDate) {
	const path = "business_hours"
	keys := c.mapping(n, path, businessHoursKeys)
	if n.Kind != yaml.MappingNode {
		return
	}
	ok := true
	days := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	if dn := keys["days"]; dn != nil {
		days = nil
		names, good := c.strList(dn, path+".days")
		ok = ok && good
		for _, name := range names {
			ds, good := parseWeekdays(name.val)
			if !good {
				c.errorf(name.node, name.path, "%q is not a day of the week: write mon, tue, wed, thu, fri, sat or sun", name.val)
				ok = false
				continue
			}
			days = append(days, ds...)
		}
	}
	var start, end TimeOfDay
	for _, k := range []string{"start", "end"} {
		kn := keys[k]
		if kn == nil {
			c.errorf(n, path+"."+k, "is missing: business hours need a start and an end, like start: \"09:00\" and end: \"17:00\"")
			ok = false
			continue
		}
		s, good := c.str(kn, path+"."+k)
		if !good {
			ok = false
			continue
		}
		if kn.Tag == "!!int" {
			// YAML reads an unquoted 09:00 as a sexagesimal number in some
			// parsers and 9 as a number; either way the value is not a time.
			c.errorf(kn, path+"."+k, "%q is not a time of day: write it in quotes as HH:MM, like \"09:00\"", s)
			ok = false
			continue
		}
		t, err := ParseTimeOfDay(s)
		if err == nil && k == "start" && t == HourMinute(24, 0) {
			err = Errorf(EINVALID, "the business day cannot start at 24:00: use 00:00")
		}
		if err != nil {
			c.errorf(kn, path+"."+k, "%s", ErrorMessage(err))
			ok = false
			continue
		}
		if k == "start" {
			start = t
		} else {
			end = t
		}
	}
	if !ok {
		return
	}
	cal, err := NewCalendar(p.Location, days, start, end, holidays)
	if err != nil {
		c.errorf(n, path, "%s", ErrorMessage(err))
		return
	}
	p.Calendar = cal
}

func (c *policyChecker) reviewBy(p *Policy, n *yaml.Node) {
	s, ok := c.str(n, "review_by")
	if !ok {
		return
	}
	d, err := ParseCalendarDate(s)
	if err != nil {
		c.errorf(n, "review_by", "%s", ErrorMessage(err))
		return
	}
	p.ReviewBy = d.In(p.Location)
	if today := DateOf(c.now.In(p.Location)); d.Before(today) {
		c.warnf(n, "review_by", "the agreement was due for review on %s: review it with Marketing and Sales and set a new review_by date", d)
	}
}

func (c *policyChecker) report(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "report", reportKeys)
	if n.Kind != yaml.MappingNode {
		return
	}
	if cn := keys["channel"]; cn != nil {
		if s, ok := c.str(cn, "report.channel"); ok {
			if strings.ContainsAny(s, " \t") {
				c.errorf(cn, "report.channel", "%q cannot be a channel: Slack channel names have no spaces (like #smarketing)", s)
			} else {
				p.Report.Channel = s
			}
		}
	} else {
		c.errorf(n, "report.channel", "is missing: say where to post the report, like channel: \"#smarketing\"")
	}
	p.Report.Schedule = DefaultReportSchedule
	if sn := keys["schedule"]; sn != nil {
		if s, ok := c.str(sn, "report.schedule"); ok {
			if err := checkSchedule(s); err != nil {
				c.errorf(sn, "report.schedule", "%s", ErrorMessage(err))
			} else {
				p.Report.Schedule = s
			}
		}
	}
}

// ParseSchedule parses a report schedule: a cron spec of 5 fields (minute
// hour day-of-month month day-of-week), 6 fields with seconds first, or a
// descriptor such as "@weekly". The schedule runs in the policy's zone,
// so a TZ= prefix is refused.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if err := checkSchedule(spec); err != nil {
		return nil, err
	}
	return scheduleParser(spec).Parse(strings.TrimSpace(spec))
}

func scheduleParser(spec string) cron.Parser {
	if len(strings.Fields(spec)) == 6 {
		return cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	}
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

func checkSchedule(spec string) error {
	spec = strings.TrimSpace(spec)
	const how = `write 5 fields (minute hour day-of-month month day-of-week), like "0 9 * * MON" for Mondays at 09:00, or 6 with seconds first`
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return Errorf(EINVALID, "%q names its own time zone: the report runs in the policy's timezone, so remove the TZ= part", spec)
	}
	fields := strings.Fields(spec)
	if !strings.HasPrefix(spec, "@") && len(fields) != 5 && len(fields) != 6 {
		return Errorf(EINVALID, "%q has %d fields: %s", spec, len(fields), how)
	}
	if _, err := scheduleParser(spec).Parse(spec); err != nil {
		return Errorf(EINVALID, "%q is not a schedule (%v): %s", spec, err, how)
	}
	return nil
}

func (c *policyChecker) targets(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "targets", targetKeys)
	t := &p.Targets
	t.FirstTouchOnTime = DefaultFirstTouchOnTime
	if n.Kind != yaml.MappingNode {
		return
	}
	ints := map[string]*int{"mqls": &t.MQLs, "sqls": &t.SQLs}
	amounts := map[string]*float64{"revenue": &t.Revenue, "deal_size": &t.DealSize}
	rates := map[string]*float64{"mql_to_sql": &t.MQLToSQL, "sql_to_won": &t.SQLToWon, "win_rate": &t.WinRate, "first_touch_on_time": &t.FirstTouchOnTime}
	for _, k := range targetKeys {
		kn := keys[k]
		if kn == nil {
			continue
		}
		path := "targets." + k
		switch {
		case ints[k] != nil:
			if v, ok := c.count(kn, path); ok {
				*ints[k] = v
			}
		case amounts[k] != nil:
			if v, ok := c.amount(kn, path); ok {
				*amounts[k] = v
			}
		case rates[k] != nil:
			if v, ok := c.rate(kn, path); ok {
				*rates[k] = v
			}
		}
	}
	if keys["sqls"] == nil && t.MQLs > 0 && t.MQLToSQL > 0 {
		t.SQLs = ceilCount(float64(t.MQLs) * t.MQLToSQL)
		t.SQLsDerived = true
	}
}

// validEmail accepts a bare address: "ana@example.com", not "Ana
// <ana@example.com>".
func validEmail(s string) bool {
	if strings.ContainsAny(s, " \t<>\"") || strings.Count(s, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.EqualFold(a.Address, s) {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	return local != "" && domain != "" && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func (c *policyChecker) email(n *yaml.Node, path string) (string, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return "", false
	}
	if !validEmail(s) {
		c.errorf(n, path, "%q is not an email address: write it bare, like ana@example.com", s)
		return "", false
	}
	return strings.ToLower(s), true
}

func (c *policyChecker) teams(p *Policy, n *yaml.Node) {
	type seen struct {
		team  string
		index int
		line  int
	}
	names := map[string]int{}
	reps := map[string]seen{}
	list := c.items(n, "teams", "teams")
	if n.Kind == yaml.SequenceNode && len(list) == 0 {
		c.errorf(n, "teams", "is empty: list at least one team with its name, manager and reps")
	}
	for i, tn := range list {
		path := fmt.Sprintf("teams[%d]", i)
		keys := c.mapping(tn, path, teamKeys)
		if tn.Kind != yaml.MappingNode {
			continue
		}
		var t Team
		if nn := keys["name"]; nn != nil {
			if s, ok := c.str(nn, path+".name"); ok {
				if first, dup := names[strings.ToLower(s)]; dup {
					c.errorf(nn, path+".name", "another team is already called %q (line %d): team names must differ", s, first)
				}
				names[strings.ToLower(s)] = nn.Line
				t.Name = s
			}
		} else {
			c.errorf(tn, path+".name", "is missing: every team needs a name")
		}
		label := t.Name
		if label == "" {
			label = fmt.Sprintf("team %d", i+1)
		}
		if mn := keys["manager"]; mn != nil {
			t.Manager, _ = c.email(mn, path+".manager")
		} else {
			c.errorf(tn, path+".manager", "is missing: %s needs a manager (an email) to hear about breaches", label)
		}
		if en := keys["escalation_channel"]; en != nil {
			if s, ok := c.str(en, path+".escalation_channel"); ok {
				t.EscalationChannel = s
			}
		}
		rn := keys["reps"]
		if rn == nil {
			c.errorf(tn, path+".reps", "is missing: %s has no reps to receive leads", label)
		} else if rn.Kind == yaml.SequenceNode && len(rn.Content) == 0 {
			c.errorf(rn, path+".reps", "is empty: %s has no reps to receive leads", label)
		} else {
			for j, item := range c.items(rn, path+".reps", "reps' emails") {
				rp := fmt.Sprintf("%s.reps[%d]", path, j)
				email, ok := c.email(item, rp)
				if !ok {
					continue
				}
				if prev, dup := reps[email]; dup {
					if prev.index == i {
						c.errorf(item, rp, "%s is listed twice in %s (also line %d)", email, label, prev.line)
					} else {
						c.errorf(item, rp, "%s is also a rep in %s (line %d): a rep belongs to one team", email, prev.team, prev.line)
					}
					continue
				}
				reps[email] = seen{label, i, item.Line}
				t.Reps = append(t.Reps, email)
			}
		}
		p.Teams = append(p.Teams, t)
	}
}

func (c *policyChecker) rules(p *Policy, n *yaml.Node) {
	names := map[string]int{}
	list := c.items(n, "rules", "rules")
	if n.Kind == yaml.SequenceNode && len(list) == 0 {
		c.errorf(n, "rules", "is empty: add at least one rule that matches every lead")
	}
	// Only rules whose match was read cleanly take part in the reachability
	// check, so that one typo does not cascade into a second complaint.
	type checked struct {
		rule  *Rule
		node  *yaml.Node
		index int
		clean bool
	}
	var rules []checked
	for i, rn := range list {
		path := fmt.Sprintf("rules[%d]", i)
		keys := c.mapping(rn, path, ruleKeys)
		if rn.Kind != yaml.MappingNode {
			continue
		}
		r := Rule{Line: rn.Line, loc: p.Location}
		if nn := keys["name"]; nn != nil {
			if s, ok := c.str(nn, path+".name"); ok {
				if first, dup := names[strings.ToLower(s)]; dup {
					c.errorf(nn, path+".name", "another rule is already called %q (line %d): rule names must differ", s, first)
				}
				names[strings.ToLower(s)] = nn.Line
				r.Name = s
			}
		} else {
			c.errorf(rn, path+".name", "is missing: every rule needs a name, which reports and breaches refer to")
		}
		clean := true
		if mn := keys["match"]; mn != nil {
			r.Match, clean = c.match(mn, path+".match")
		}

		if tn := keys["team"]; tn != nil {
			if s, ok := c.str(tn, path+".team"); ok {
				if p.Team(s) == nil {
					var names []string
					for _, t := range p.Teams {
						names = append(names, t.Name)
					}
					c.errorf(tn, path+".team", "there is no team called %q; the teams are %s", s, andList(names))
				}
				r.Team = s
			}
		}

		ftOK := false
		if fn := keys["first_touch"]; fn != nil {
			r.FirstTouch, ftOK = c.positiveDuration(fn, path+".first_touch")
			if ftOK && p.Calendar != nil && r.FirstTouch >= durDay {
				perDay := p.Calendar.OpenPerDay()
				c.warnf(fn, path+".first_touch",
					"%s counts business hours only: with %s open a day that is about %.3g business days; for one business day write %s",
					FormatDuration(r.FirstTouch), FormatDuration(perDay), float64(r.FirstTouch)/float64(perDay), compactDuration(perDay))
			}
		} else {
			c.errorf(rn, path+".first_touch", "is missing: say how soon the rep must first touch the lead, like first_touch: 4h")
		}

		if tn := keys["touches"]; tn != nil {
			r.Touches = c.touches(tn, path+".touches")
		}

		if bn := keys["remind_before"]; bn != nil {
			var items []*yaml.Node
			if bn.Kind == yaml.ScalarNode && bn.Tag != "!!null" {
				items = []*yaml.Node{bn}
			} else {
				items = c.items(bn, path+".remind_before", "durations before the deadline")
			}
			for j, item := range items {
				ip := path + ".remind_before"
				if bn.Kind == yaml.SequenceNode {
					ip = fmt.Sprintf("%s[%d]", ip, j)
				}
				d, ok := c.positiveDuration(item, ip)
				if !ok {
					continue
				}
				if ftOK && d >= r.FirstTouch {
					c.errorf(item, ip, "a reminder %s before the deadline must be shorter than first_touch (%s), or it would come before the lead arrives", FormatDuration(d), FormatDuration(r.FirstTouch))
					continue
				}
				if !slices.Contains(r.RemindBefore, d) {
					r.RemindBefore = append(r.RemindBefore, d)
				}
			}
			// Longest first: the order in which the reminders fire.
			slices.SortFunc(r.RemindBefore, func(a, b time.Duration) int { return cmp.Compare(b, a) })
		}

		if an := keys["on_breach"]; an != nil {
			r.OnBreach = c.onBreach(an, path+".on_breach")
		}

		p.Rules = append(p.Rules, r)
		rules = append(rules, checked{nil, rn, i, clean})
	}
	// Point into p.Rules only now that it has stopped growing.
	for i := range rules {
		rules[i].rule = &p.Rules[i]
	}

	catchAll := false
	for j, rj := range rules {
		if !rj.clean {
			continue
		}
		for i := 0; i < j; i++ {
			ri := rules[i]
			if !ri.clean || !ri.rule.Match.covers(rj.rule.Match) {
				continue
			}
			why := fmt.Sprintf("rule %q above (line %d) already takes every lead it would match", ri.rule.Name, ri.rule.Line)
			if ri.rule.Match.IsCatchAll() {
				why = fmt.Sprintf("rule %q above (line %d) matches every lead; put the catch-all rule last", ri.rule.Name, ri.rule.Line)
			}
			c.errorf(rj.node, fmt.Sprintf("rules[%d]", rj.index), "this rule can never match: %s", why)
			break
		}
		if rj.rule.Match.IsCatchAll() {
			catchAll = true
		}
	}
	if !catchAll && len(list) > 0 && n.Kind == yaml.SequenceNode && !slices.ContainsFunc(rules, func(r checked) bool { return !r.clean }) {
		c.errorf(n, "rules", "no rule matches every lead, so some leads would have no SLA: end the list with a rule without match, like\n  - name: default\n    first_touch: 4h")
	}
}

// compactDuration writes d the way the policy file does: "8h", "7h30m".
func compactDuration(d time.Duration) string {
	var b strings.Builder
	for _, u := range []struct {
		size time.Duration
		name string
	}{{durWeek, "w"}, {durDay, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

func (c *policyChecker) match(n *yaml.Node, path string) (Match, bool) {
	var m Match
	keys := c.mapping(n, path, matchKeys)
	if n.Kind != yaml.MappingNode {
		return m, false
	}
	clean := true
	for _, k := range []string{"source", "segment"} {
		kn := keys[k]
		if kn == nil {
			continue
		}
		vals, ok := c.strList(kn, path+"."+k)
		clean = clean && ok
		for _, item := range vals {
			v := strings.ToLower(item.val)
			if k == "source" {
				m.Source = append(m.Source, v)
			} else {
				m.Segment = append(m.Segment, v)
			}
		}
	}
	if sn := keys["min_score"]; sn != nil {
		s, ok := c.str(sn, path+".min_score")
		if ok {
			v, err := strconv.Atoi(s)
			if err != nil {
				c.errorf(sn, path+".min_score", "%q is not a whole number: write a score such as 80", s)
				ok = false
			} else {
				m.MinScore = &v
			}
		}
		clean = clean && ok
	}
	return m, clean
}

func (c *policyChecker) touches(n *yaml.Node, path string) Cadence {
	var t Cadence
	keys := c.mapping(n, path, touchesKeys)
	if n.Kind != yaml.MappingNode {
		return t
	}
	if cn := keys["count"]; cn != nil {
		if v, ok := c.count(cn, path+".count"); ok {
			if v < 1 {
				c.errorf(cn, path+".count", "must be at least 1: it is how many touches the rep owes the lead, like count: 8")
			} else {
				t.Count = v
			}
		}
	} else {
		c.errorf(n, path+".count", "is missing: say how many touches, like {count: 8, within: 15d}")
	}
	if wn := keys["within"]; wn != nil {
		t.Within, _ = c.positiveDuration(wn, path+".within")
	} else {
		c.errorf(n, path+".within", "is missing: say in how long, like {count: 8, within: 15d}")
	}
	return t
}

func (c *policyChecker) onBreach(n *yaml.Node, path string) []BreachAction {
	names := make([]string, len(BreachActions))
	for i, a := range BreachActions {
		names[i] = string(a)
	}
	var out []BreachAction
	vals, _ := c.strList(n, path)
	for _, item := range vals {
		a := BreachAction(strings.ToLower(item.val))
		if !slices.Contains(BreachActions, a) {
			msg := fmt.Sprintf("%q is not a breach action: use %s", item.val, orList(names))
			if s := closestKey(item.val, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			c.errorf(item.node, item.path, "%s", msg)
			continue
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
