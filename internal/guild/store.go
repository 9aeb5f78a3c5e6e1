package guild

import (
	"context"
	"time"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/permission"
)

// Channel kinds.
const (
	KindText     = "text"
	KindVoice    = "voice"
	KindCategory = "category"
	KindDM       = "dm"
	KindGroupDM  = "group_dm"
)

// Guild is a community.
type Guild struct {
	ID          string
	Name        string
	Description string
	OwnerID     string
	CreatedAt   time.Time
}

// Channel is a guild channel or a direct-message channel.
type Channel struct {
	ID              string
	GuildID         string // empty for DMs
	Kind            string
	Name            string
	Topic           string
	ParentID        string // the category, or empty
	Position        int
	SlowmodeSeconds int
	LastSeq         int64 // newest sequence of the channel's log
	CreatedAt       time.Time

	// Overwrites are the channel's own permission overwrites.
	Overwrites []Overwrite

	// ParticipantIDs lists every participant of a DM, the caller included.
	ParticipantIDs []string

	// ReadOnly marks a DM in which at most one participant still has an
	// account, so no one could read a new message.
	ReadOnly bool
}

// Overwrite is a channel permission overwrite for a role or a member.
type Overwrite struct {
	TargetID string
	Kind     permission.OverwriteKind
	Allow    permission.Set
	Deny     permission.Set
}

// Role is a guild role. The @everyone role's id is the guild id and its
// position is 0; positions are unique and dense.
type Role struct {
	ID          string
	GuildID     string
	Name        string
	Permissions permission.Set
	Position    int
	CreatedAt   time.Time
}

// Member is a user's membership of a guild.
type Member struct {
	GuildID  string
	User     auth.User
	Nickname *string  // nil when unset
	RoleIDs  []string // without @everyone
	JoinedAt time.Time
}

// Invite lets people join a guild.
type Invite struct {
	Code      string
	GuildID   string
	InviterID string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	MaxUses   int       // 0: unlimited
	Uses      int
}

// Ban keeps a user out of a guild.
type Ban struct {
	GuildID   string
	User      auth.User
	Reason    string
	CreatedAt time.Time
}

// Access is what permission computation needs about a member of a guild.
type Access struct {
	Guild  permission.Guild
	Member permission.Member
}

// GuildUpdate changes the fields that are not nil.
type GuildUpdate struct {
	Name        *string
	Description *string
	OwnerID     *string
}

// ChannelUpdate changes the fields that are not nil. ParentID set to ""
// moves the channel out of its category.
type ChannelUpdate struct {
	Name            *string
	Topic           *string
	Position        *int
	ParentID        *string
	SlowmodeSeconds *int
}

// RoleUpdate changes the fields that are not nil.
type RoleUpdate struct {
	Name        *string
	Permissions *permission.Set
	Position    *int
}

// Store persists guilds. Every method that changes state appends the
// events of the contract to the right logs in the same transaction and
// returns them, committed, for the caller to publish: channel changes go
// to the channel's log, guild, member and role changes to the guild's log
// (whose id is the guild id). Event data is the JSON form of the changed
// resource as the API shows it.
//
// Methods return ErrNotFound for a guild, channel, role, member, invite or
// ban that does not exist (deleted guilds and channels included).
type Store interface {
	// CreateGuild stores a guild with its @everyone role, its owner as
	// first member and its first channel.
	CreateGuild(ctx context.Context, g Guild, everyone Role, first Channel) ([]event.Event, error)
	Guild(ctx context.Context, id string) (Guild, error)
	// GuildsOf lists the guilds userID is a member of, oldest first.
	GuildsOf(ctx context.Context, userID string) ([]Guild, error)
	// UpdateGuild returns ErrNotMember when OwnerID names a non-member.
	UpdateGuild(ctx context.Context, id string, u GuildUpdate) (Guild, []event.Event, error)
	// DeleteGuild marks the guild deleted and removes its channels, roles,
	// invites, bans and memberships.
	DeleteGuild(ctx context.Context, id string, at time.Time) ([]event.Event, error)

	// Access returns the guild's owner and roles and the member's roles.
	// ErrNotFound when the guild does not exist or userID is not a member.
	Access(ctx context.Context, guildID, userID string) (Access, error)

	// Channel returns a guild or DM channel with its overwrites, or its
	// participants for a DM.
	Channel(ctx context.Context, id string) (Channel, error)
	// Channels lists a guild's channels by position, then id.
	Channels(ctx context.Context, guildID string) ([]Channel, error)
	CreateChannel(ctx context.Context, c Channel) (Channel, []event.Event, error)
	UpdateChannel(ctx context.Context, id string, u ChannelUpdate) (Channel, []event.Event, error)
	// DeleteChannel marks a channel deleted. Deleting a category moves its
	// channels out of it.
	DeleteChannel(ctx context.Context, id string, at time.Time) ([]event.Event, error)
	SetOverwrite(ctx context.Context, channelID string, o Overwrite) ([]event.Event, error)
	DeleteOverwrite(ctx context.Context, channelID, targetID string) ([]event.Event, error)

	// Roles lists a guild's roles by position.
	Roles(ctx context.Context, guildID string) ([]Role, error)
	// CreateRole inserts r at r.Position, moving roles at or above it up
	// by one.
	CreateRole(ctx context.Context, r Role) (Role, []event.Event, error)
	// UpdateRole moves the role when Position is set, keeping positions
	// unique and dense, and reports each moved role in an event.
	UpdateRole(ctx context.Context, guildID, roleID string, u RoleUpdate) (Role, []event.Event, error)
	DeleteRole(ctx context.Context, guildID, roleID string) ([]event.Event, error)

	// Members lists members by ascending user id after the given id.
	Members(ctx context.Context, guildID, afterUserID string, limit int) ([]Member, error)
	Member(ctx context.Context, guildID, userID string) (Member, error)
	AddMemberRole(ctx context.Context, guildID, userID, roleID string) ([]event.Event, error)
	RemoveMemberRole(ctx context.Context, guildID, userID, roleID string) ([]event.Event, error)
	SetNickname(ctx context.Context, guildID, userID string, nickname *string) (Member, []event.Event, error)
	RemoveMember(ctx context.Context, guildID, userID string) ([]event.Event, error)

	// BanMember records the ban and removes the membership, if any.
	BanMember(ctx context.Context, b Ban) ([]event.Event, error)
	Unban(ctx context.Context, guildID, userID string) error
	Bans(ctx context.Context, guildID string) ([]Ban, error)

	CreateInvite(ctx context.Context, inv Invite) error
	Invite(ctx context.Context, code string) (Invite, error)
	Invites(ctx context.Context, guildID string) ([]Invite, error)
	DeleteInvite(ctx context.Context, code string) error
	// AcceptInvite adds userID to the invite's guild, consuming one use.
	// It returns ErrNotFound for unknown, expired and used-up codes,
	// ErrBanned for a banned user, and for a user who is already a member
	// the guild without consuming a use.
	AcceptInvite(ctx context.Context, code, userID string, at time.Time) (Guild, []event.Event, error)

	// DMs lists the DM channels userID takes part in.
	DMs(ctx context.Context, userID string) ([]Channel, error)
	// CreateDM stores a dm or group_dm with its participants. For a dm
	// whose pair already has one, it returns that channel and created false.
	CreateDM(ctx context.Context, c Channel) (ch Channel, created bool, events []event.Event, err error)
	// SharesGuild reports whether two users are members of a common guild.
	SharesGuild(ctx context.Context, a, b string) (bool, error)
	// MemberIDs returns those of userIDs that are members of the guild.
	MemberIDs(ctx context.Context, guildID string, userIDs []string) ([]string, error)

	// OwnedGuilds counts the live guilds userID owns.
	OwnedGuilds(ctx context.Context, userID string) (int, error)
	// LeaveAllGuilds removes userID from every guild.
	LeaveAllGuilds(ctx context.Context, userID string) ([]event.Event, error)
}
