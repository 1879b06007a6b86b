package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The policy's values: text and lists of it, counts, amounts, rates and
// durations, each read with a message that says what to write instead.

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
