package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
)

// dispatchTimeout bounds the lookups of one event's recipients.
const dispatchTimeout = 5 * time.Second

// deliver sends one committed event to every connection allowed to see
// it, encoding it once.
func (h *Hub) deliver(e event.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), dispatchTimeout)
	defer cancel()
	f := frame{data: encodeDispatch(string(e.Type), e.LogID, e.GuildID, e.Seq, e.Data), logID: e.LogID, seq: e.Seq, created: e.CreatedAt.UnixNano()}

	switch {
	case e.GuildID != "" && e.LogID == e.GuildID:
		h.deliverGuildEvent(e, f)
	default:
		h.deliverChannelEvent(ctx, e, f)
	}
}

// deliverGuildEvent sends a guild, member or role event to every member's
// connections and keeps the guild subscriptions in step with membership.
func (h *Hub) deliverGuildEvent(e event.Event, f frame) {
	if e.Type == event.MemberAdd {
		if userID := memberOf(e); userID != "" {
			h.subscribeUser(userID, e.GuildID)
		}
	}
	for _, c := range h.guildConns(e.GuildID) {
		c.send(f)
	}
	switch e.Type {
	case event.MemberAdd:
		if userID := memberOf(e); userID != "" {
			h.presence.joined(userID, e.GuildID)
		}
	case event.MemberRemove:
		if userID := memberOf(e); userID != "" {
			h.unsubscribeUser(userID, e.GuildID)
		}
	case event.GuildDelete:
		h.unsubscribeGuild(e.GuildID)
	}
}

// memberOf reads the user id of a member event's data.
func memberOf(e event.Event) string {
	var d struct {
		UserID string `json:"user_id"`
		User   struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	if d.UserID != "" {
		return d.UserID
	}
	return d.User.ID
}

// deliverChannelEvent sends a channel's event to the connections whose
// user can view the channel now, or, for a deleted channel, could view
// it before.
//
// NOTE: "now" is when the hub routes the event, not when it committed.
// If a permission change commits while the hub is behind, an earlier
// event is judged by the newer permissions, so a user let back into a
// channel can receive an event from while they were shut out.
func (h *Hub) deliverChannelEvent(ctx context.Context, e event.Event, f frame) {
	if e.Type == event.ChannelDelete {
		for _, c := range h.viewers(e.LogID) {
			c.send(f)
		}
		return
	}
	ch, err := h.deps.Channels.Channel(ctx, e.LogID)
	if err != nil {
		return // deleted since, or unreadable: clients catch up from the log
	}

	candidates := h.userConnsOf(ch.ParticipantIDs)
	if ch.GuildID != "" {
		candidates = h.guildConns(ch.GuildID)
	}
	allowed := map[string]bool{}
	for _, c := range candidates {
		ok, seen := allowed[c.userID]
		if !seen {
			perms, err := h.deps.Guilds.PermissionsIn(ctx, ch, c.userID)
			ok = err == nil && perms.Has(permission.ViewChannel)
			allowed[c.userID] = ok
		}
		h.setVisible(c, ch.ID, ok)
		if ok {
			c.send(f)
		}
	}
}

func (h *Hub) userConnsOf(userIDs []string) []*conn {
	var out []*conn
	for _, id := range userIDs {
		out = append(out, h.userConns(id)...)
	}
	return out
}

// subscribeUser adds a new member's open connections to a guild.
func (h *Hub) subscribeUser(userID, guildID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byUser[userID] {
		h.subscribeLocked(c, guildID)
	}
}

func (h *Hub) unsubscribeUser(userID, guildID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byUser[userID] {
		h.unsubscribeLocked(c, guildID)
	}
}

func (h *Hub) unsubscribeGuild(guildID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byGuild[guildID] {
		h.unsubscribeLocked(c, guildID)
	}
}

// setVisible records whether a connection's user can view a channel, so a
// later channel_delete reaches exactly those who could.
func (h *Hub) setVisible(c *conn, channelID string, visible bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if visible {
		c.visible[channelID] = true
	} else {
		delete(c.visible, channelID)
	}
}

func (h *Hub) viewers(channelID string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*conn
	for c := range h.conns {
		if c.visible[channelID] {
			out = append(out, c)
		}
	}
	return out
}

// visibleChannels marks the channels of ready as viewable.
func (h *Hub) visibleChannels(c *conn, channels []guild.Channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range channels {
		c.visible[ch.ID] = true
	}
}
