package teams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// ChannelStore is what resolving the policy's channel names needs: the
// channels slabot learnt and the names pinned to them.
type ChannelStore interface {
	ChatChannelByID(ctx context.Context, platform, id string) (*engine.ChatChannel, error)
	ChatChannelsByName(ctx context.Context, platform, tenantID, team, channel string) ([]engine.ChatChannel, error)
	PinChatChannel(ctx context.Context, platform, name, channelID string) (string, error)
	ChatChannelPin(ctx context.Context, platform, name string) (string, error)
}

// ErrAmbiguousChannel: two channels of the tenant answer to a name the
// policy uses, and it was never pinned to one of them.
var ErrAmbiguousChannel = errors.New("the channel name is ambiguous")

// ChannelPin is what a channel the policy names resolves to.
type ChannelPin struct {
	// Name is the name as the policy writes it.
	Name string
	// Channel is the channel it means (nil when slabot knows none yet).
	Channel *engine.ChatChannel
	// Pinned says the name was pinned to the channel before this
	// resolution (else it is pinned by it, or would be).
	Pinned bool
	// ByID says the policy names the channel by its id.
	ByID bool
	// Candidates are the channels of an ambiguous name.
	Candidates []engine.ChatChannel
	// Err says why the name resolves to no channel, in words for the
	// person who wrote the policy.
	Err error
	// Fault is a failure to look (the database), not a problem of the name.
	Fault error
}

// pinKey is the stored form of a "Team/Channel" name.
func pinKey(team, channel string) string {
	return strings.ToLower(strings.TrimSpace(team) + "/" + strings.TrimSpace(channel))
}

// PinName is the stored form of a policy's "Team/Channel" name, as its pin
// is kept.
func PinName(name string) string {
	team, channel, _ := strings.Cut(name, "/")
	return pinKey(team, channel)
}

// isChannelID reports whether the policy names a channel by its id
// (19:…@thread.tacv2, or @thread.skype for older teams).
func isChannelID(name string) bool { return strings.HasPrefix(strings.TrimSpace(name), "19:") }

// ResolveChannel finds the channel a policy's channel name means, among
// the channels of tenantID that slabot learnt. A "Team/Channel" name is
// pinned to the channel it meant the first time it meant exactly one
// (pin: record that pin now), so that a team created later with the same
// name receives nothing; a name two channels answer to and never pinned
// is refused with ErrAmbiguousChannel. A name by id is taken as it is.
func ResolveChannel(ctx context.Context, store ChannelStore, tenantID, name string, pin bool) ChannelPin {
	name = strings.TrimSpace(name)
	res := ChannelPin{Name: name}
	if isChannelID(name) {
		res.ByID = true
		ch, err := store.ChatChannelByID(ctx, engine.PlatformTeams, name)
		switch {
		case err == nil && tenantID != "" && ch.TenantID != "" && !strings.EqualFold(ch.TenantID, tenantID):
			res.Err = fmt.Errorf("the policy names Teams channel %s, which is in another tenant than TEAMS_TENANT_ID", name)
		case err == nil:
			res.Channel = ch
		case engine.ErrorCode(err) != engine.ENOTFOUND:
			res.Fault = err
		}
		return res
	}
	team, channel, ok := strings.Cut(name, "/")
	if !ok || strings.TrimSpace(team) == "" || strings.TrimSpace(channel) == "" {
		res.Err = fmt.Errorf("the policy names Teams channel %q: write it as \"Team name/Channel name\" or by its id (19:…)", name)
		return res
	}
	key := pinKey(team, channel)
	if id, err := store.ChatChannelPin(ctx, engine.PlatformTeams, key); err == nil {
		ch, err := store.ChatChannelByID(ctx, engine.PlatformTeams, id)
		if err == nil {
			res.Channel, res.Pinned = ch, true
			return res
		}
		if engine.ErrorCode(err) != engine.ENOTFOUND {
			res.Fault = err
			return res
		}
		// The pinned channel is gone. The name is not moved to another
		// channel on its own: anyone can create a team by that name.
		res.Err = engine.Errorf(engine.ENOTFOUND, "the policy's Teams channel %q was pinned to channel %s, which is gone (deleted, or slabot was removed from its team); "+
			"slabot does not move the name to another team's channel on its own. Add slabot back to that team, name the channel by its id (19:…) in the policy, "+
			"or run `slabot policy unpin %q` to pin the name afresh", name, id, name)
		return res
	} else if engine.ErrorCode(err) != engine.ENOTFOUND {
		res.Fault = err
		return res
	}
	candidates, err := store.ChatChannelsByName(ctx, engine.PlatformTeams, tenantID, team, channel)
	switch {
	case err != nil:
		res.Fault = err
		return res
	case len(candidates) == 0:
		res.Err = engine.Errorf(engine.ENOTFOUND, "the policy names Teams channel %q, but slabot is in no team with that channel: add slabot to the team, or fix the name", name)
		return res
	case len(candidates) > 1:
		res.Candidates = candidates
		res.Err = fmt.Errorf("%w: the policy names Teams channel %q, and %d teams slabot is in have a channel by that name: %s. Name the channel by its id in the policy instead, or rename one of the teams",
			ErrAmbiguousChannel, name, len(candidates), describeCandidates(candidates))
		return res
	}
	res.Channel = &candidates[0]
	if !pin {
		return res
	}
	pinned, err := store.PinChatChannel(ctx, engine.PlatformTeams, key, candidates[0].ID)
	if err != nil {
		res.Fault = err
		return res
	}
	if pinned != candidates[0].ID { // another replica pinned it first
		ch, err := store.ChatChannelByID(ctx, engine.PlatformTeams, pinned)
		if err != nil {
			res.Fault = err
			return res
		}
		res.Channel, res.Pinned = ch, true
	}
	return res
}

func describeCandidates(channels []engine.ChatChannel) string {
	parts := make([]string, len(channels))
	for i, c := range channels {
		parts[i] = fmt.Sprintf("%s in team %q (team id %s)", c.ID, c.TeamName, c.TeamID)
	}
	return strings.Join(parts, "; ")
}

// PolicyChannels are the channel names the policy uses: the report's and
// each team's escalation channel, once each, in the policy's order.
func PolicyChannels(p *engine.Policy) []string {
	var names []string
	add := func(n string) {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	add(p.Report.Channel)
	for _, t := range p.Teams {
		add(t.EscalationChannel)
	}
	return names
}

// CheckChannels resolves every channel the policy names (pinning what is
// not pinned yet when pin is set); the error lists the ambiguous names.
func CheckChannels(ctx context.Context, store ChannelStore, tenantID string, p *engine.Policy, pin bool) ([]ChannelPin, error) {
	var pins []ChannelPin
	var ambiguous []error
	for _, name := range PolicyChannels(p) {
		res := ResolveChannel(ctx, store, tenantID, name, pin)
		if res.Fault != nil {
			return nil, res.Fault
		}
		if errors.Is(res.Err, ErrAmbiguousChannel) {
			ambiguous = append(ambiguous, res.Err)
		}
		pins = append(pins, res)
	}
	return pins, errors.Join(ambiguous...)
}

// DescribePin says in a line what a policy's channel name resolves to.
func DescribePin(p ChannelPin) string {
	switch {
	case p.Err != nil:
		return problemText(p.Err)
	case p.ByID && p.Channel == nil:
		return fmt.Sprintf("%s: named by its id; slabot has not seen it yet and will post there as it is", p.Name)
	case p.ByID:
		return fmt.Sprintf("%s: named by its id (%s in team %q)", p.Name, p.Channel.Name, p.Channel.TeamName)
	case p.Pinned:
		return fmt.Sprintf("%s: pinned to channel %s (team id %s)", p.Name, p.Channel.ID, p.Channel.TeamID)
	default:
		return fmt.Sprintf("%s: the one channel by that name is %s (team id %s); slabot pins the name to it when it starts", p.Name, p.Channel.ID, p.Channel.TeamID)
	}
}

// problemText is a problem with a channel name in words, without the
// error code an engine error prints.
func problemText(err error) string {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// JobChannelGone is the durable job that tells the managers that a
// channel the policy names is gone.
const JobChannelGone = "teams.channel_gone"

// ChannelGoneArgs: channels the policy names were deleted, or slabot was
// removed from their team.
type ChannelGoneArgs struct {
	// Names are the policy's names of the channels that are gone.
	Names []string `json:"names"`
	// Why says what happened, in words for a manager.
	Why string `json:"why"`
}

func (ChannelGoneArgs) Kind() string  { return JobChannelGone }
func (ChannelGoneArgs) Queue() string { return engine.QueueSend }

// channelsGone forgets channels that are gone and, when the policy names
// one of them, tells the managers of the teams that use it.
func (a *App) channelsGone(ctx context.Context, ids []string, why string) error {
	if len(ids) == 0 {
		return nil
	}
	// Which of the policy's names meant these channels: resolved before
	// they are forgotten, with the pins on them.
	var named []string
	for _, name := range PolicyChannels(a.service.Policy()) {
		res := ResolveChannel(ctx, a.store, a.tr.Config.TenantID, name, false)
		if res.Channel != nil && slices.Contains(ids, res.Channel.ID) {
			named = append(named, name)
		}
		for _, c := range res.Candidates {
			if slices.Contains(ids, c.ID) {
				named = append(named, name)
				break
			}
		}
	}
	gone, err := a.store.ForgetChatChannels(ctx, engine.PlatformTeams, ids)
	if err != nil {
		return err
	}
	a.logger.Info("forgot Teams channels that are gone", "channels", len(gone), "why", why)
	if len(named) == 0 {
		return nil
	}
	a.logger.Error("a channel the policy names no longer exists in Teams; the managers are told", "channels", strings.Join(named, ", "), "why", why)
	// Keyed by the channels: the two activities of one removal tell once.
	sum := sha256.Sum256([]byte(strings.Join(slices.Sorted(slices.Values(ids)), ",")))
	job := engine.Job{UniqueKey: JobChannelGone + ":" + hex.EncodeToString(sum[:16]), Args: ChannelGoneArgs{Names: named, Why: why}}
	return a.store.InTx(ctx, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, job)
		return err
	})
}

// tellChannelGone tells the manager of each team that uses a gone channel
// (all managers for the report's channel) what to do.
func (a *App) tellChannelGone(ctx context.Context, job engine.Job, args ChannelGoneArgs) error {
	policy := a.service.Policy()
	managers := map[string][]string{}
	for _, name := range args.Names {
		for _, t := range policy.Teams {
			if t.Manager != "" && (strings.EqualFold(t.EscalationChannel, name) || strings.EqualFold(policy.Report.Channel, name)) &&
				!slices.Contains(managers[t.Manager], name) {
				managers[t.Manager] = append(managers[t.Manager], name)
			}
		}
	}
	for email, names := range managers {
		text := fmt.Sprintf("The Teams channel %s, which the SLA policy uses, is gone: %s. Until the policy names a channel slabot is in, "+
			"what slabot would post there is not posted. Add slabot to the team that should receive it, or change the channel in the policy file.",
			strings.Join(names, " and "), args.Why)
		person, err := a.store.ChatIdentityByEmail(ctx, engine.PlatformTeams, email)
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			var found engine.ChatIdentity
			found, err = a.chat.FindPerson(ctx, email)
			person = &found
		}
		if errors.Is(err, engine.ErrUnreachable) {
			a.logger.Error("a manager who should hear that a policy channel is gone cannot be reached in Teams", "why", err)
			continue
		}
		if err != nil {
			return err
		}
		m := view.Message{Summary: text, Blocks: []view.Block{view.Section{Lines: []view.Text{view.T(view.Warning, " "+text)}}}}
		if _, err := a.chat.Post(ctx, engine.Destination{Person: person}, m, engine.PostKey{Kind: "channel_gone", Key: job.UniqueKey + ":" + email}); err != nil {
			return err
		}
	}
	return nil
}
