package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/permission"
)

// userState is the state a connection loads at identify: the user's guilds
// with their visible channels, and the DMs.
type userState struct {
	guildIDs []string
	guilds   []readyGuild
	channels []guild.Channel // every visible channel, DMs included
	dms      []guild.Channel
}

type readyGuild struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	LastSeq  int64             `json:"last_seq"` // of the guild's own log, for resume
	Channels []apijson.Channel `json:"channels"`
}

func (h *Hub) loadState(ctx context.Context, userID string) (userState, error) {
	var st userState
	guilds, err := h.deps.Guilds.Guilds(ctx, userID)
	if err != nil {
		return st, fmt.Errorf("load guilds of user %s: %w", userID, err)
	}
	for _, g := range guilds {
		channels, err := h.deps.Guilds.Channels(ctx, userID, g.ID)
		if errors.Is(err, guild.ErrNotFound) {
			continue // left or deleted since the list was read
		}
		if err != nil {
			return st, fmt.Errorf("load channels of guild %s: %w", g.ID, err)
		}
		last, err := h.deps.Events.LastSeq(ctx, g.ID)
		if err != nil {
			return st, fmt.Errorf("read last seq of guild %s: %w", g.ID, err)
		}
		rg := readyGuild{ID: g.ID, Name: g.Name, LastSeq: last, Channels: make([]apijson.Channel, len(channels))}
		for i, c := range channels {
			rg.Channels[i] = apijson.NewChannel(c, userID)
		}
		st.guildIDs = append(st.guildIDs, g.ID)
		st.guilds = append(st.guilds, rg)
		st.channels = append(st.channels, channels...)
	}
	st.dms, err = h.deps.Guilds.DMs(ctx, userID)
	if err != nil {
		return st, fmt.Errorf("load DMs of user %s: %w", userID, err)
	}
	st.channels = append(st.channels, st.dms...)
	return st, nil
}

// sendReady writes ready and records, per log, the seq the client's state
// reflects, so queued events up to it are not sent twice.
func (c *conn) sendReady(ctx context.Context, st userState) error {
	h := c.hub
	user, err := h.deps.Auth.User(ctx, c.userID)
	if err != nil {
		c.closeWith(closeInternalError, "could not load your state; retry")
		return err
	}

	roles := make(map[string][]string, len(st.guildIDs))
	for _, g := range st.guildIDs {
		if ids, err := h.deps.Guilds.RoleIDs(ctx, g, c.userID); err == nil {
			roles[g] = ids
		}
	}
	reads, unread, err := h.deps.ReadStates.UnreadSummary(ctx, c.userID, st.channels, roles)
	if err != nil {
		c.closeWith(closeInternalError, "could not load your state; retry")
		return err
	}

	dms := make([]apijson.Channel, len(st.dms))
	for i, d := range st.dms {
		dms[i] = apijson.NewChannel(d, c.userID)
	}
	if st.guilds == nil {
		st.guilds = []readyGuild{}
	}
	ready := map[string]any{
		"user":       apijson.NewUser(user),
		"guilds":     st.guilds,
		"dms":        dms,
		"read_state": nonNilReads(reads),
		"unread":     nonNilUnread(unread),
		"presences":  h.presence.forGuilds(st.guildIDs),
		"session_id": c.id,
	}
	for _, ch := range st.channels {
		c.sent[ch.ID] = ch.LastSeq
	}
	for _, g := range st.guilds {
		c.sent[g.ID] = g.LastSeq
	}
	return c.write(ctx, encode(opReady, ready))
}

func nonNilReads(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func nonNilUnread(m map[string]message.UnreadCount) map[string]message.UnreadCount {
	if m == nil {
		return map[string]message.UnreadCount{}
	}
	return m
}

// replay writes, for each log the resuming client names, every event after
// its seq that the user may see, up to the resume limit; logs with more
// are listed in resync_required. Guild logs need membership, channel logs
// the right to read history.
func (c *conn) replay(ctx context.Context, st userState, lastSeq map[string]int64) error {
	h := c.hub
	var resync []string
	for logID, after := range lastSeq {
		if !c.canReadLog(ctx, logID) {
			continue
		}
		events, err := h.deps.Events.Events(ctx, logID, after, h.opts.ResumeLimit+1)
		if err != nil {
			return err
		}
		if len(events) > h.opts.ResumeLimit {
			resync = append(resync, logID)
			continue
		}
		for _, e := range events {
			if err := c.write(ctx, encodeDispatch(string(e.Type), e.LogID, e.GuildID, e.Seq, e.Data)); err != nil {
				return err
			}
		}
		c.sent[logID] = after
		if n := len(events); n > 0 {
			c.sent[logID] = events[n-1].Seq
		}
	}
	// Logs the client did not name start from now: anything queued beyond
	// the current seq is new to it.
	for _, ch := range st.channels {
		if _, named := c.sent[ch.ID]; !named {
			c.sent[ch.ID] = ch.LastSeq
		}
	}
	for _, g := range st.guilds {
		if _, named := c.sent[g.ID]; !named {
			c.sent[g.ID] = g.LastSeq
		}
	}
	if len(resync) > 0 {
		if err := c.write(ctx, encode(opResyncRequired, map[string]any{"channel_ids": resync})); err != nil {
			return err
		}
	}
	return c.write(ctx, encode(opResumed, map[string]any{"session_id": c.id}))
}

// canReadLog reports whether the user may read a log: a guild log by
// membership, a channel log by READ_MESSAGE_HISTORY.
func (c *conn) canReadLog(ctx context.Context, logID string) bool {
	if ok, err := c.hub.deps.Guilds.IsMember(ctx, logID, c.userID); err == nil && ok {
		return true
	}
	_, perms, err := c.hub.deps.Guilds.ChannelAccess(ctx, c.userID, logID)
	return err == nil && perms.Has(permission.ReadMessageHistory)
}
