package engine

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The agreement's clock: its time zone, holidays and business hours.

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
