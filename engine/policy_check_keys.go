package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Reading the policy's YAML: the keys each section knows, a suggestion for
// a misspelt one, and the helpers that follow aliases and name what a node is.

// The keys each section of the policy file knows, in the order they are
// suggested. A key outside these lists is a problem: a typo in a policy
// silently ignored is an SLA nobody enforces.
var (
	topKeys           = []string{"timezone", "business_hours", "holidays", "review_by", "report", "targets", "teams", "rules", "webhooks", "crm", "quality", "review", "recycle"}
	businessHoursKeys = []string{"days", "start", "end"}
	reportKeys        = []string{"channel", "schedule", "score_bands"}
	targetKeys        = []string{"mqls", "sqls", "mql_to_sql", "sql_to_won", "revenue", "deal_size", "win_rate", "first_touch_on_time", "accepted"}
	teamKeys          = []string{"name", "manager", "escalation_channel", "reps", "calendar"}
	teamCalendarKeys  = []string{"timezone", "business_hours", "holidays"}
	ruleKeys          = []string{"name", "match", "team", "first_touch", "accept_within", "touches", "remind_before", "on_breach"}
	matchKeys         = []string{"source", "segment", "min_score"}
	touchesKeys       = []string{"count", "within"}
	qualityKeys       = []string{"contest_within", "contesters"}
	reviewKeys        = []string{"owners", "capacity_open_leads", "routing_delay"}
)

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
			c.errorf(n, path, "has no value: give it the keys %s", AndList(known))
		} else {
			c.errorf(n, path, "should be a set of keys (%s), but it is %s", AndList(known), kindText(n))
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
				msg += ": the keys are " + AndList(known)
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
		if d := EditDistance(norm, k); d < bestD {
			best, bestD = k, d
		}
	}
	limit := max(2, len([]rune(key))/3)
	if bestD <= limit {
		return best
	}
	return ""
}
