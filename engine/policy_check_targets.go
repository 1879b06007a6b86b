package engine

import (
	"go.yaml.in/yaml/v3"
)

// The monthly targets both sides are measured against.

func (c *policyChecker) targets(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "targets", targetKeys)
	t := &p.Targets
	t.FirstTouchOnTime = DefaultFirstTouchOnTime
	if n.Kind != yaml.MappingNode {
		return
	}
	ints := map[string]*int{"mqls": &t.MQLs, "sqls": &t.SQLs}
	amounts := map[string]*float64{"revenue": &t.Revenue, "deal_size": &t.DealSize}
	rates := map[string]*float64{"mql_to_sql": &t.MQLToSQL, "sql_to_won": &t.SQLToWon, "win_rate": &t.WinRate, "first_touch_on_time": &t.FirstTouchOnTime, "accepted": &t.Accepted}
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
