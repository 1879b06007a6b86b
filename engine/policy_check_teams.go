package engine

import (
	"fmt"
	"net/mail"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Teams and their reps: names, managers and each rep in one team only.

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
		if cn := keys["calendar"]; cn != nil {
			who := t.Name
			if who == "" {
				who = fmt.Sprint(i + 1)
			}
			t.Calendar = c.teamCalendar(p, cn, path+".calendar", who)
		}
		p.Teams = append(p.Teams, t)
	}
}
