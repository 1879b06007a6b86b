package engine

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// QualityConfig is the policy's quality section: who in Marketing may
// contest a rejection, and for how long after it.
type QualityConfig struct {
	// ContestWithin is how long after a rejection it may be contested, in
	// calendar time (key contest_within); DefaultContestWithin when the
	// section names contesters without it.
	ContestWithin time.Duration
	// Contesters are the people who may contest, by email, lower-cased.
	Contesters []string
	// ContestChannel is the channel told of every rejection, with a button
	// to contest it; anyone there who is not in Sales may press it.
	ContestChannel string
}

// DefaultContestWithin is how long a rejection may be contested when the
// policy names contesters but no contest_within.
const DefaultContestWithin = 5 * durDay

// Contesting reports whether the agreement lets Marketing contest
// rejections at all.
func (q QualityConfig) Contesting() bool {
	return len(q.Contesters) > 0 || q.ContestChannel != ""
}

// quality reads the quality section:
//
//	quality:
//	  contest_within: 5d
//	  contesters: ["#marketing", mia@example.com]
func (c *policyChecker) quality(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "quality", qualityKeys)
	if n.Kind != yaml.MappingNode {
		return
	}
	if wn := keys["contest_within"]; wn != nil {
		if d, ok := c.positiveDuration(wn, "quality.contest_within"); ok {
			p.Quality.ContestWithin = d
		}
	}
	cn := keys["contesters"]
	if cn == nil {
		if keys["contest_within"] != nil {
			c.errorf(n, "quality.contesters", "is missing: name who may contest a rejection, a channel (like \"#marketing\") or people by email")
		}
		return
	}
	items, _ := c.strList(cn, "quality.contesters")
	for _, it := range items {
		switch {
		case strings.Contains(it.val, "@"):
			if !validEmail(it.val) {
				c.errorf(it.node, it.path, "%q is not an email address: write it bare, like mia@example.com", it.val)
				continue
			}
			p.Quality.Contesters = append(p.Quality.Contesters, strings.ToLower(it.val))
		case p.Quality.ContestChannel != "":
			c.errorf(it.node, it.path, "names a second channel (%q): rejections go to one channel, %q", it.val, p.Quality.ContestChannel)
		case strings.ContainsAny(it.val, " \t") && !strings.Contains(it.val, "/"):
			c.errorf(it.node, it.path, "%q cannot be a channel: a Slack channel name has no spaces (like #marketing); "+
				"a Teams channel is written \"Team name/Channel name\"; a person is named by email", it.val)
		default:
			p.Quality.ContestChannel = it.val
		}
	}
	if p.Quality.Contesting() && p.Quality.ContestWithin == 0 {
		p.Quality.ContestWithin = DefaultContestWithin
	}
}
