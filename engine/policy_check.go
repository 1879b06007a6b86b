package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file reads a policy file from the top. Each section is checked in a
// policy_check_*.go file named for it; the readers the sections share are in
// policy_check_keys.go (keys and misspellings) and policy_check_values.go.

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
	if top["business_hours"] == nil && len(holidays) > 0 && !p.HasBusinessHours() {
		// A team with business hours of its own is closed on them.
		c.warnf(top["holidays"], "holidays", "holidays have no effect without business_hours: the SLA clock runs 24×7, holidays included")
	}
	if n := top["rules"]; n != nil {
		c.rules(p, n)
	} else {
		c.errorf(root, "rules", "the policy has no rules: add at least one that matches every lead, like\n  - name: default\n    first_touch: 4h")
	}
	if n := top["webhooks"]; n != nil {
		c.webhooks(p, n)
	}
	if n := top["crm"]; n != nil {
		c.crm(p, n)
	}
	if n := top["quality"]; n != nil {
		c.quality(p, n)
	}
	if n := top["review"]; n != nil {
		c.review(p, n)
	}
	if n := top["recycle"]; n != nil {
		c.recycle(p, n)
	}
	return p
}
