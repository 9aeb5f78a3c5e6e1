package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
)

// Presence and typing timings.
const (
	// offlineGrace is how long a user with no connection left still shows
	// online, so a reconnect does not flash offline to everyone.
	offlineGrace = 5 * time.Second

	// typingInterval is the shortest gap between two typing frames of one
	// user in one channel; repeats inside it are dropped.
	typingInterval = 5 * time.Second

	// typingTTL is how long a typing indicator lasts on clients.
	typingTTL = 10 * time.Second
)

func validStatus(s string) bool { return s == "online" || s == "idle" || s == "offline" }

// presence tracks who is online and announces changes to the members of
// their guilds.
type presence struct {
	hub *Hub

	mu        sync.Mutex           // guards the maps below
	conns     map[string]int       // open connections per user
	shown     map[string]string    // status others see, for users not offline
	chosen    map[string]string    // status the user set with the status op
	offlineAt map[string]time.Time // users with no connection, and when to announce it
	lastSeen  map[string][]string  // guilds of users awaiting their offline announcement
}

func newPresence(h *Hub) *presence {
	return &presence{hub: h, conns: map[string]int{}, shown: map[string]string{}, chosen: map[string]string{}, offlineAt: map[string]time.Time{}, lastSeen: map[string][]string{}}
}

func (p *presence) connected(c *conn) {
	p.mu.Lock()
	p.conns[c.userID]++
	delete(p.offlineAt, c.userID)
	delete(p.lastSeen, c.userID)
	status := p.chosen[c.userID]
	if status == "" {
		status = "online"
	}
	changed := p.setShownLocked(c.userID, status)
	p.mu.Unlock()
	if changed {
		p.announce(c.userID, status)
	}
}

// disconnected notes a closed connection and the guilds it was in. The
// user's last connection starts the grace period; the guilds are kept so
// the offline announcement can still find the members to tell.
func (p *presence) disconnected(c *conn, guilds []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastSeen[c.userID] = appendMissing(p.lastSeen[c.userID], guilds)
	if p.conns[c.userID]--; p.conns[c.userID] <= 0 {
		delete(p.conns, c.userID)
		p.offlineAt[c.userID] = p.hub.opts.Clock.Now().Add(offlineGrace)
	}
}

func appendMissing(list, more []string) []string {
	for _, m := range more {
		found := false
		for _, l := range list {
			if l == m {
				found = true
				break
			}
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

func (p *presence) setStatus(c *conn, status string) {
	p.mu.Lock()
	p.chosen[c.userID] = status
	changed := p.setShownLocked(c.userID, status)
	p.mu.Unlock()
	if changed {
		p.announce(c.userID, status)
	}
}

// setShownLocked records the status others see and reports whether it
// changed. Offline is shown by absence.
func (p *presence) setShownLocked(userID, status string) bool {
	if p.shown[userID] == status || (status == "offline" && p.shown[userID] == "") {
		return false
	}
	if status == "offline" {
		delete(p.shown, userID)
	} else {
		p.shown[userID] = status
	}
	return true
}

// expire announces users whose grace period ended without a reconnect.
func (p *presence) expire() {
	now := p.hub.opts.Clock.Now()
	gone := map[string][]string{}
	p.mu.Lock()
	for userID, at := range p.offlineAt {
		if now.Before(at) {
			continue
		}
		delete(p.offlineAt, userID)
		delete(p.chosen, userID)
		if p.setShownLocked(userID, "offline") {
			gone[userID] = p.lastSeen[userID]
		}
		delete(p.lastSeen, userID)
	}
	p.mu.Unlock()
	for userID, guilds := range gone {
		f := frame{data: encode(opPresence, map[string]string{"user_id": userID, "status": "offline"})}
		for _, c := range p.hub.guildsConns(guilds) {
			c.send(f)
		}
	}
}

// announce sends a presence frame to every connection sharing a guild
// with the user, each once.
func (p *presence) announce(userID, status string) {
	f := frame{data: encode(opPresence, map[string]string{"user_id": userID, "status": status})}
	for _, c := range p.hub.sharingGuild(userID) {
		c.send(f)
	}
}

// joined introduces a new member and a guild's members to each other:
// the member's presence goes to the guild's connections, and the
// presences of the guild's members go to the member's connections, as
// if each side had just identified.
func (p *presence) joined(userID, guildID string) {
	p.mu.Lock()
	status := p.shown[userID]
	p.mu.Unlock()
	if status != "" {
		f := frame{data: encode(opPresence, map[string]string{"user_id": userID, "status": status})}
		for _, c := range p.hub.guildsConns([]string{guildID}) {
			if c.userID != userID {
				c.send(f)
			}
		}
	}

	own := p.hub.userConns(userID)
	for _, member := range p.forGuilds([]string{guildID}) {
		if member["user_id"] == userID {
			continue
		}
		f := frame{data: encode(opPresence, member)}
		for _, c := range own {
			c.send(f)
		}
	}
}

// forGuilds lists the members of the guilds who are not offline.
func (p *presence) forGuilds(guildIDs []string) []map[string]string {
	users := p.hub.connectedMembers(guildIDs)
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []map[string]string{}
	for userID := range users {
		if status := p.shown[userID]; status != "" {
			out = append(out, map[string]string{"user_id": userID, "status": status})
		}
	}
	return out
}

// sharingGuild returns the connections of everyone who shares a guild
// with the user, the user's own included.
func (h *Hub) sharingGuild(userID string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	guilds := map[string]bool{}
	for c := range h.byUser[userID] {
		for g := range c.guilds {
			guilds[g] = true
		}
	}
	seen := map[*conn]bool{}
	var out []*conn
	for g := range guilds {
		for c := range h.byGuild[g] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// guildsConns returns the connections subscribed to any of the guilds,
// each once.
func (h *Hub) guildsConns(guildIDs []string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[*conn]bool{}
	var out []*conn
	for _, g := range guildIDs {
		for c := range h.byGuild[g] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// connectedMembers returns the users with an open connection subscribed
// to any of the guilds.
func (h *Hub) connectedMembers(guildIDs []string) map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	users := map[string]bool{}
	for _, g := range guildIDs {
		for c := range h.byGuild[g] {
			users[c.userID] = true
		}
	}
	return users
}

// Typing sends a typing frame to the others who can view the channel.
// It needs SEND_MESSAGES there; repeats within 5 s send nothing. It
// returns guild.ErrNotFound for channels the user cannot view and
// guild.ErrForbidden without SEND_MESSAGES.
func (h *Hub) Typing(ctx context.Context, userID, channelID string) error {
	ch, perms, err := h.deps.Guilds.ChannelAccess(ctx, userID, channelID)
	if err != nil {
		return err
	}
	if !perms.Has(permission.SendMessages) {
		return guild.ErrForbidden
	}
	if !h.typing.Allow(userID + "/" + channelID).Allowed {
		return nil
	}

	expires := h.opts.Clock.Now().Add(typingTTL)
	f := frame{data: encode(opTyping, map[string]string{
		"channel_id": channelID, "user_id": userID, "expires_at": apijson.Time(expires),
	})}
	candidates := h.userConnsOf(ch.ParticipantIDs)
	if ch.GuildID != "" {
		candidates = h.guildConns(ch.GuildID)
	}
	for _, c := range candidates {
		if c.userID == userID {
			continue
		}
		if p, err := h.deps.Guilds.PermissionsIn(ctx, ch, c.userID); err == nil && p.Has(permission.ViewChannel) {
			c.send(f)
		}
	}
	return nil
}
