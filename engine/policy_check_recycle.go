package engine

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The recycle key: where a contact goes when Marketing hands them off again
// after Sales returned them.

// Recycle routes (recycle.route_to).
const (
	// RecycleRouteUsual routes a returning contact as any new lead.
	RecycleRouteUsual = "usual"
	// RecycleRoutePreviousOwner sends a returning contact back to the rep
	// who held their last lead when it went back to Marketing.
	RecycleRoutePreviousOwner = "previous_owner"
)

// DefaultRecycleWithin is how long after a return a contact still goes
// back to their previous owner when recycle.within is not given.
const DefaultRecycleWithin = 180 * durDay

// RecycleConfig is the policy's recycle key (top level: it applies to
// every rule, since the contact's new lead may fall under another rule
// than the one it went back under).
type RecycleConfig struct {
	// RouteTo is RecycleRoutePreviousOwner or RecycleRouteUsual ("" when
	// the file has no recycle key: usual).
	RouteTo string
	// Within is how long after the return the previous owner still gets
	// the contact back.
	Within time.Duration
}

// ToPreviousOwner reports whether returning contacts go back to their
// previous owner.
func (c RecycleConfig) ToPreviousOwner() bool { return c.RouteTo == RecycleRoutePreviousOwner }

var (
	recycleKeys     = []string{"route_to", "within"}
	recycleRoutesTo = []string{RecycleRoutePreviousOwner, RecycleRouteUsual}
)

func (c *policyChecker) recycle(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "recycle", recycleKeys)
	if resolve(n).Kind != yaml.MappingNode {
		return
	}
	p.Recycle = RecycleConfig{RouteTo: RecycleRouteUsual, Within: DefaultRecycleWithin}
	if kn := keys["route_to"]; kn != nil {
		if s, ok := c.str(kn, "recycle.route_to"); ok {
			v := strings.ToLower(strings.TrimSpace(s))
			switch {
			case v == RecycleRoutePreviousOwner || v == RecycleRouteUsual:
				p.Recycle.RouteTo = v
			default:
				msg := fmt.Sprintf("%q is not a route: use %s (back to the rep who returned the contact) or %s (routed as any new lead)",
					s, RecycleRoutePreviousOwner, RecycleRouteUsual)
				if sug := closestKey(v, recycleRoutesTo); sug != "" {
					msg = fmt.Sprintf("%q is not a route: did you mean %s?", s, sug)
				}
				c.errorf(kn, "recycle.route_to", "%s", msg)
			}
		}
	} else {
		c.errorf(n, "recycle.route_to", "is missing: write route_to: previous_owner to send a returning contact back to the rep who returned them")
	}
	if kn := keys["within"]; kn != nil {
		if d, ok := c.positiveDuration(kn, "recycle.within"); ok {
			if d < durDay {
				c.errorf(kn, "recycle.within", "%s is shorter than a day: a returned contact comes back after weeks or months, so write days, like 180d", FormatDuration(d))
			} else {
				p.Recycle.Within = d
			}
		}
	}
	if keys["within"] != nil && p.Recycle.RouteTo == RecycleRouteUsual && keys["route_to"] != nil {
		c.warnf(keys["within"], "recycle.within", "has no effect with route_to: %s: returning contacts are routed as any new lead", RecycleRouteUsual)
	}
}

// recycleSummary says what happens to a returning contact, for Summary.
func (p *Policy) recycleSummary() string {
	var b strings.Builder
	b.WriteString("\nA lead returned as \"not now\" is given a date to revisit; on that date ")
	if p.Report.Channel != "" {
		b.WriteString(p.Report.Channel + " is told")
	} else {
		b.WriteString("the lead.recycle_due webhook fires (add report.channel to tell Marketing in chat too)")
	}
	b.WriteString(". A contact handed off again arrives with the history of their last returned lead")
	if p.Recycle.ToPreviousOwner() {
		fmt.Fprintf(&b, ", and goes back to the rep who held it when it was returned within %s, if that rep is available", FormatDuration(p.Recycle.Within))
	}
	b.WriteString(".\n")
	return b.String()
}
