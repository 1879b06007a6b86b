package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rules: what each one matches, its deadlines, reminders, cadence and breach
// actions, and whether every rule can be reached and every lead is covered.

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
					c.errorf(tn, path+".team", "there is no team called %q; the teams are %s", s, AndList(names))
				}
				r.Team = s
			}
		}

		ftOK := false
		if fn := keys["first_touch"]; fn != nil {
			r.FirstTouch, ftOK = c.positiveDuration(fn, path+".first_touch")
			if cal := businessCalendar(p); ftOK && cal != nil && r.FirstTouch >= durDay {
				perDay := cal.OpenPerDay()
				c.warnf(fn, path+".first_touch",
					"%s counts business hours only: with %s open a day that is about %.3g business days; for one business day write %s",
					FormatDuration(r.FirstTouch), FormatDuration(perDay), float64(r.FirstTouch)/float64(perDay), compactDuration(perDay))
			}
		} else {
			c.errorf(rn, path+".first_touch", "is missing: say how soon the rep must first touch the lead, like first_touch: 4h")
		}

		if an := keys["accept_within"]; an != nil {
			if d, ok := c.positiveDuration(an, path+".accept_within"); ok {
				if ftOK && d > r.FirstTouch {
					c.errorf(an, path+".accept_within", "%s is longer than first_touch (%s): a touch accepts the lead, so accepting must be due first", FormatDuration(d), FormatDuration(r.FirstTouch))
				} else {
					r.AcceptWithin = d
				}
			}
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

// businessCalendar is the calendar a first_touch of days is judged
// against: the policy's when it has business hours, else the first team
// calendar that has; nil when every clock runs 24×7.
func businessCalendar(p *Policy) *Calendar {
	if !p.Calendar.Always() {
		return p.Calendar
	}
	for i := range p.Teams {
		if c := p.Teams[i].Calendar; !c.Always() {
			return c
		}
	}
	return nil
}
