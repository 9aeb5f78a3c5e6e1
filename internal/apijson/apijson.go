// Package apijson provides the JSON forms of the client API's resources.
// The HTTP layer writes them in responses and the event logs store them as
// event data, so a dispatch and a GET show a resource the same way.
package apijson

import (
	"time"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/message"
	"github.com/openguild/openguild/internal/permission"
)

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Time formats t as the API does. The zero time has no form; callers
// use a nil pointer or omit the field.
func Time(t time.Time) string { return t.UTC().Format(timeFormat) }

// timePtr returns nil for the zero time.
func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := Time(t)
	return &s
}

// User is the public form of an account. A deleted account keeps its id
// and reads as a deleted user.
type User struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
	Deleted     bool   `json:"deleted,omitempty"`
}

// NewUser returns the public form of u.
func NewUser(u auth.User) User {
	if u.Deleted() {
		return User{ID: u.ID, Username: "deleted-user", DisplayName: "Deleted user", CreatedAt: Time(u.CreatedAt), Deleted: true}
	}
	return User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, CreatedAt: Time(u.CreatedAt)}
}

// Guild is the API form of a guild.
type Guild struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	OwnerID     string `json:"owner_id"`
	CreatedAt   string `json:"created_at"`
}

// NewGuild returns the API form of g.
func NewGuild(g guild.Guild) Guild {
	return Guild{ID: g.ID, Name: g.Name, Description: g.Description, OwnerID: g.OwnerID, CreatedAt: Time(g.CreatedAt)}
}

// Channel is the API form of a channel.
type Channel struct {
	ID              string   `json:"id"`
	GuildID         *string  `json:"guild_id"`
	Kind            string   `json:"kind"`
	Name            string   `json:"name"`
	Topic           string   `json:"topic"`
	ParentID        *string  `json:"parent_id"`
	Position        int      `json:"position"`
	SlowmodeSeconds int      `json:"slowmode_seconds"`
	LastSeq         int64    `json:"last_seq"`
	RecipientIDs    []string `json:"recipient_ids,omitempty"`
	CreatedAt       string   `json:"created_at"`
}

// NewChannel returns the API form of c as viewerID sees it: for a DM,
// recipient_ids lists every participant but the viewer. An empty viewerID
// lists them all, for event data that every participant reads.
func NewChannel(c guild.Channel, viewerID string) Channel {
	out := Channel{
		ID: c.ID, Kind: c.Kind, Name: c.Name, Topic: c.Topic, Position: c.Position,
		SlowmodeSeconds: c.SlowmodeSeconds, LastSeq: c.LastSeq, CreatedAt: Time(c.CreatedAt),
	}
	if c.GuildID != "" {
		out.GuildID = &c.GuildID
	}
	if c.ParentID != "" {
		out.ParentID = &c.ParentID
	}
	if c.Kind == guild.KindDM || c.Kind == guild.KindGroupDM {
		out.RecipientIDs = []string{}
		for _, id := range c.ParticipantIDs {
			if id != viewerID {
				out.RecipientIDs = append(out.RecipientIDs, id)
			}
		}
	}
	return out
}

// Role is the API form of a role.
type Role struct {
	ID          string         `json:"id"`
	GuildID     string         `json:"guild_id"`
	Name        string         `json:"name"`
	Permissions permission.Set `json:"permissions"`
	Position    int            `json:"position"`
	Managed     bool           `json:"managed"`
}

// NewRole returns the API form of r.
func NewRole(r guild.Role) Role {
	return Role{ID: r.ID, GuildID: r.GuildID, Name: r.Name, Permissions: r.Permissions, Position: r.Position}
}

// Member is the API form of a guild membership.
type Member struct {
	GuildID  string   `json:"guild_id"`
	User     User     `json:"user"`
	Nickname *string  `json:"nickname"`
	RoleIDs  []string `json:"role_ids"`
	JoinedAt string   `json:"joined_at"`
}

// NewMember returns the API form of m.
func NewMember(m guild.Member) Member {
	roles := m.RoleIDs
	if roles == nil {
		roles = []string{}
	}
	return Member{GuildID: m.GuildID, User: NewUser(m.User), Nickname: m.Nickname, RoleIDs: roles, JoinedAt: Time(m.JoinedAt)}
}

// Overwrite is the API form of a channel permission overwrite.
type Overwrite struct {
	ChannelID string         `json:"channel_id"`
	TargetID  string         `json:"target_id"`
	Type      string         `json:"type"`
	Allow     permission.Set `json:"allow"`
	Deny      permission.Set `json:"deny"`
}

// NewOverwrite returns the API form of o on channelID.
func NewOverwrite(channelID string, o guild.Overwrite) Overwrite {
	return Overwrite{ChannelID: channelID, TargetID: o.TargetID, Type: o.Kind.String(), Allow: o.Allow, Deny: o.Deny}
}

// Invite is the API form of an invite.
type Invite struct {
	Code      string  `json:"code"`
	GuildID   string  `json:"guild_id"`
	InviterID string  `json:"inviter_id"`
	CreatedAt string  `json:"created_at"`
	ExpiresAt *string `json:"expires_at"`
	MaxUses   *int    `json:"max_uses"`
	Uses      int     `json:"uses"`
}

// NewInvite returns the API form of inv.
func NewInvite(inv guild.Invite) Invite {
	out := Invite{Code: inv.Code, GuildID: inv.GuildID, InviterID: inv.InviterID, CreatedAt: Time(inv.CreatedAt),
		ExpiresAt: timePtr(inv.ExpiresAt), Uses: inv.Uses}
	if inv.MaxUses > 0 {
		out.MaxUses = &inv.MaxUses
	}
	return out
}

// Ban is the API form of a ban.
type Ban struct {
	User      User   `json:"user"`
	Reason    string `json:"reason"`
	CreatedAt string `json:"created_at"`
}

// NewBan returns the API form of b.
func NewBan(b guild.Ban) Ban {
	return Ban{User: NewUser(b.User), Reason: b.Reason, CreatedAt: Time(b.CreatedAt)}
}

// Deleted is the event data of a deleted resource: its id and, where it
// has one, its guild.
type Deleted struct {
	ID      string `json:"id"`
	GuildID string `json:"guild_id,omitempty"`
}

// MemberRemoved is the event data of a member leaving, kicked or banned.
type MemberRemoved struct {
	GuildID string `json:"guild_id"`
	UserID  string `json:"user_id"`
}

// Reaction is one emoji's tally on a message.
type Reaction struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	Me    bool   `json:"me"`
}

// Message is the API form of a message.
type Message struct {
	ID          string           `json:"id"`
	ChannelID   string           `json:"channel_id"`
	Seq         int64            `json:"seq"`
	AuthorID    string           `json:"author_id"`
	Content     string           `json:"content"`
	Nonce       *string          `json:"nonce"`
	ReplyTo     *string          `json:"reply_to"`
	Attachments []Media          `json:"attachments"`
	Reactions   []Reaction       `json:"reactions"`
	Mentions    message.Mentions `json:"mentions"`
	CreatedAt   string           `json:"created_at"`
	EditedAt    *string          `json:"edited_at"`
}

// NewMessage returns the API form of m.
func NewMessage(m message.Message) Message {
	out := Message{
		ID: m.ID, ChannelID: m.ChannelID, Seq: m.Seq, AuthorID: m.AuthorID, Content: m.Content,
		Attachments: make([]Media, len(m.Attachments)), Reactions: make([]Reaction, len(m.Reactions)), Mentions: m.Mentions,
		CreatedAt: Time(m.CreatedAt), EditedAt: timePtr(m.EditedAt),
	}
	if m.Nonce != "" {
		out.Nonce = &m.Nonce
	}
	if m.ReplyTo != "" {
		out.ReplyTo = &m.ReplyTo
	}
	for i, r := range m.Reactions {
		out.Reactions[i] = Reaction{Emoji: r.Emoji, Count: r.Count, Me: r.Me}
	}
	for i, a := range m.Attachments {
		out.Attachments[i] = NewMedia(a)
	}
	return out
}

// Media is the API form of an uploaded file. Width and height are left
// out for files that are not images.
type Media struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	CreatedAt   string `json:"created_at"`
}

// NewMedia returns the API form of m.
func NewMedia(m media.Media) Media {
	return Media{ID: m.ID, Filename: m.Filename, ContentType: m.ContentType, Size: m.Size, SHA256: m.SHA256,
		Width: m.Width, Height: m.Height, CreatedAt: Time(m.CreatedAt)}
}

// MessageDeleted is the event data of a deleted message, and the
// tombstone that replaces the payload of its earlier events: ids and
// structure, no content.
type MessageDeleted struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id,omitempty"`
	Deleted   bool   `json:"deleted"`
}

// ReactionChange is the event data of reaction_add and reaction_remove.
type ReactionChange struct {
	MessageID string `json:"message_id"`
	ChannelID string `json:"channel_id"`
	UserID    string `json:"user_id"`
	Emoji     string `json:"emoji"`
}
