package engine

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The agreement's clock: its time zone, holidays and business hours.

// calendarOwner names whose calendar a problem is about in its message:
// "" for the policy's own, " for team emea" for a team's.
func calendarOwner(team string) string {
	if team == "" {
		return ""
	}
	return " for team " + team
}

// zone reads a time zone name at path; team is "" for the policy's own.
func (c *policyChecker) zone(n *yaml.Node, path, name, team string) (*time.Location, bool) {
	if name == "Local" {
		c.errorf(n, path, "write the zone's name%s, like America/New_York or Europe/Berlin, not Local: the server's zone may differ from the team's", calendarOwner(team))
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		c.errorf(n, path, "%q is not a time zone%s: use a name from the IANA time zone database, like America/New_York, Europe/Berlin or UTC", name, calendarOwner(team))
		return nil, false
	}
	return loc, true
}

func (c *policyChecker) timezone(p *Policy, n *yaml.Node, name string) {
	if loc, ok := c.zone(n, "timezone", name, ""); ok {
		p.TimezoneName, p.Location = name, loc
	}
}

// holidayDates reads a list of holiday dates at path; team is "" for the
// policy's own list.
func (c *policyChecker) holidayDates(n *yaml.Node, path, team string) []CalendarDate {
	var out []CalendarDate
	seen := map[CalendarDate]bool{}
	for i, item := range c.items(n, path, "holiday dates (YYYY-MM-DD)") {
		ip := fmt.Sprintf("%s[%d]", path, i)
		s, ok := c.str(item, ip)
		if !ok {
			continue
		}
		d, err := ParseCalendarDate(s)
		if err != nil {
			msg := ErrorMessage(err)
			if team != "" {
				msg = fmt.Sprintf("a holiday%s: %s", calendarOwner(team), msg)
			}
			c.errorf(item, ip, "%s", msg)
			continue
		}
		if seen[d] {
			c.warnf(item, ip, "%s is listed twice", d)
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

func (c *policyChecker) holidays(p *Policy, n *yaml.Node) []CalendarDate {
	out := c.holidayDates(n, "holidays", "")
	for _, d := range out {
		p.Holidays = append(p.Holidays, d.String())
	}
	return out
}

// parseWeekdays reads "mon", "Monday" or a range "mon-fri" (which may wrap
// over the weekend: "sat-mon").
func parseWeekdays(s string) ([]time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	from, to, isRange := strings.Cut(strings.ReplaceAll(s, "–", "-"), "-")
	a, ok := ParseWeekday(strings.TrimSpace(from))
	if !ok {
		return nil, false
	}
	if !isRange {
		return []time.Weekday{a}, true
	}
	b, ok := ParseWeekday(strings.TrimSpace(to))
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
	if h, ok := c.hours(n, "business_hours", ""); ok {
		if cal, ok := c.calendar(n, "business_hours", "", p.Location, h, holidays); ok {
			p.Calendar = cal
		}
	}
}

// openHours are the days and hours of a business_hours key.
type openHours struct {
	days       []time.Weekday
	start, end TimeOfDay
}

// hours reads a business_hours mapping at path; team is "" for the
// policy's own.
func (c *policyChecker) hours(n *yaml.Node, path, team string) (openHours, bool) {
	keys := c.mapping(n, path, businessHoursKeys)
	if n.Kind != yaml.MappingNode {
		return openHours{}, false
	}
	ok := true
	h := openHours{days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}
	if dn := keys["days"]; dn != nil {
		h.days = nil
		names, good := c.strList(dn, path+".days")
		ok = ok && good
		for _, name := range names {
			ds, good := parseWeekdays(name.val)
			if !good {
				c.errorf(name.node, name.path, "%q is not a day of the week%s: write mon, tue, wed, thu, fri, sat or sun", name.val, calendarOwner(team))
				ok = false
				continue
			}
			h.days = append(h.days, ds...)
		}
	}
	for _, k := range []string{"start", "end"} {
		kn := keys[k]
		if kn == nil {
			c.errorf(n, path+"."+k, "is missing: business hours%s need a start and an end, like start: \"09:00\" and end: \"17:00\"", calendarOwner(team))
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
			c.errorf(kn, path+"."+k, "%q is not a time of day%s: write it in quotes as HH:MM, like \"09:00\"", s, calendarOwner(team))
			ok = false
			continue
		}
		t, err := ParseTimeOfDay(s)
		if err == nil && k == "start" && t == HourMinute(24, 0) {
			err = Errorf(EINVALID, "the business day cannot start at 24:00: use 00:00")
		}
		if err != nil {
			msg := ErrorMessage(err)
			if team != "" {
				msg = fmt.Sprintf("the %s of the business day%s: %s", k, calendarOwner(team), msg)
			}
			c.errorf(kn, path+"."+k, "%s", msg)
			ok = false
			continue
		}
		if k == "start" {
			h.start = t
		} else {
			h.end = t
		}
	}
	return h, ok
}

// calendar makes the calendar of hours h in loc, closed on holidays.
func (c *policyChecker) calendar(n *yaml.Node, path, team string, loc *time.Location, h openHours, holidays []CalendarDate) (*Calendar, bool) {
	cal, err := NewCalendar(loc, h.days, h.start, h.end, holidays)
	if err != nil {
		msg := ErrorMessage(err)
		if team != "" {
			msg = fmt.Sprintf("team %s: %s", team, msg)
		}
		c.errorf(n, path, "%s", msg)
		return nil, false
	}
	return cal, true
}

// teamCalendar reads a team's calendar key: its own timezone,
// business_hours and holidays, each of which, when absent, is the
// policy's (the policy's hours are then read in the team's zone). A team
// whose calendar has no business hours, and a policy with none, runs 24×7
// in its zone. It returns nil when the calendar has errors.
func (c *policyChecker) teamCalendar(p *Policy, n *yaml.Node, path, team string) *Calendar {
	keys := c.mapping(n, path, teamCalendarKeys)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if len(n.Content) == 0 {
		c.errorf(n, path, "is empty: give team %s its own timezone, business_hours or holidays, or remove calendar to keep the policy's", team)
		return nil
	}
	ok := true
	loc := p.Location
	if zn := keys["timezone"]; zn != nil {
		if name, good := c.str(zn, path+".timezone"); good {
			loc, good = c.zone(zn, path+".timezone", name, team)
			ok = ok && good
		} else {
			ok = false
		}
	}
	// The policy's holidays, even when it has no business hours of its
	// own: a team that has some is closed on them.
	var holidays []CalendarDate
	for _, h := range p.Holidays {
		if d, err := ParseCalendarDate(h); err == nil {
			holidays = append(holidays, d)
		}
	}
	if hn := keys["holidays"]; hn != nil {
		holidays = c.holidayDates(hn, path+".holidays", team)
	}
	var h openHours
	hasHours := false
	if bn := keys["business_hours"]; bn != nil {
		var good bool
		h, good = c.hours(bn, path+".business_hours", team)
		ok, hasHours = ok && good, true
	} else if !p.Calendar.Always() {
		h.days = p.Calendar.Days()
		h.start, h.end = p.Calendar.Hours()
		hasHours = true
	} else if keys["holidays"] != nil && len(holidays) > 0 {
		c.warnf(keys["holidays"], path+".holidays", "the holidays of team %s have no effect without business_hours: its SLA clock runs 24×7, holidays included", team)
	}
	if !ok || loc == nil {
		return nil
	}
	if !hasHours {
		return AlwaysOpen(loc)
	}
	cal, good := c.calendar(n, path, team, loc, h, holidays)
	if !good {
		return nil
	}
	return cal
}
