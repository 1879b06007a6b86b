package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// When the agreement is looked at again: its review date and the weekly
// report's channel and schedule.

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
			// A Teams channel is "Team name/Channel name", where spaces are
			// common; a Slack channel name has none.
			if strings.ContainsAny(s, " \t") && !strings.Contains(s, "/") {
				c.errorf(cn, "report.channel", "%q cannot be a channel: a Slack channel name has no spaces (like #smarketing); "+
					"a Teams channel is written \"Team name/Channel name\"", s)
			} else {
				p.Report.Channel = s
			}
		}
	} else {
		c.errorf(n, "report.channel", "is missing: say where to post the report, like channel: \"#smarketing\"")
	}
	p.Report.Schedule = DefaultReportSchedule
	if bn := keys["score_bands"]; bn != nil {
		p.ScoreBands = c.scoreBands(bn)
	}
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

// scoreBands reads report.score_bands: whole numbers, each above the one
// before, which start the scorecard's score bands.
func (c *policyChecker) scoreBands(n *yaml.Node) []int {
	var bands []int
	for _, item := range c.items(n, "report.score_bands", "score") {
		s, ok := c.str(item, "report.score_bands")
		if !ok {
			return nil
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			c.errorf(item, "report.score_bands", "%q is not a whole number: write the scores that start each band, like [50, 80]", s)
			return nil
		}
		if len(bands) > 0 && v <= bands[len(bands)-1] {
			c.errorf(item, "report.score_bands", "%d does not come after %d: list the bands' lowest scores in rising order, like [50, 80]", v, bands[len(bands)-1])
			return nil
		}
		bands = append(bands, v)
	}
	return bands
}

// review reads the review pack's settings: who owns the agreement, and
// the thresholds of the breach causes (K and R).
func (c *policyChecker) review(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "review", reviewKeys)
	if on := keys["owners"]; on != nil {
		for i, item := range c.items(on, "review.owners", "owners' emails") {
			if email, ok := c.email(item, fmt.Sprintf("review.owners[%d]", i)); ok {
				p.Review.Owners = append(p.Review.Owners, email)
			}
		}
	}
	if kn := keys["capacity_open_leads"]; kn != nil {
		if k, ok := c.count(kn, "review.capacity_open_leads"); ok {
			if k == 0 {
				c.errorf(kn, "review.capacity_open_leads", "must be at least 1: it is how many open leads a rep already held for a breach to be put down to capacity")
			} else {
				p.Review.CapacityOpenLeads = k
			}
		}
	}
	if rn := keys["routing_delay"]; rn != nil {
		if d, ok := c.positiveDuration(rn, "review.routing_delay"); ok {
			p.Review.RoutingDelay = d
		}
	}
}
