package permission

import "fmt"

// Role is a guild role as far as permissions go. The @everyone role has
// the guild's ID and position 0, and a higher position ranks higher.
type Role struct {
	ID          string
	Position    int
	Permissions Set
}

// OverwriteKind is the kind of target of an [Overwrite]: a role or a
// member. The zero value is invalid, and overwrites with it are ignored.
type OverwriteKind int

// Overwrite kinds. Their text forms are the client API's "role" and
// "member".
const (
	OverwriteRole OverwriteKind = iota + 1
	OverwriteMember
)

// Overwrite is a channel's permission overwrite for one role or member.
// Deny removes permissions and Allow adds them. Neither can grant or remove
// Administrator, which exists only at guild level.
type Overwrite struct {
	Kind     OverwriteKind
	TargetID string
	Allow    Set
	Deny     Set
}

// Guild is the part of a guild that permissions depend on.
type Guild struct {
	ID      string
	OwnerID string

	// Roles maps role IDs to roles, including @everyone under the guild's
	// ID. A nil map means the guild grants nothing through roles.
	Roles map[string]Role
}

// Member is a guild member: a user and the IDs of the roles assigned to it.
// RoleIDs need not list @everyone, which every member has.
type Member struct {
	UserID  string
	RoleIDs []string
}

// Channel is the part of a guild channel that permissions depend on. A
// category is a Channel too.
type Channel struct {
	ID string

	// ParentID is the ID of the channel's category, or "" when the channel
	// is in no category.
	ParentID string

	// Overwrites holds at most one overwrite per kind and target.
	Overwrites []Overwrite
}

// String returns the client API name of k: "role" or "member".
func (k OverwriteKind) String() string {
	switch k {
	case OverwriteRole:
		return "role"
	case OverwriteMember:
		return "member"
	}
	return fmt.Sprintf("OverwriteKind(%d)", int(k))
}

// ParseOverwriteKind parses the client API name of an overwrite kind,
// "role" or "member". Any other text returns an error wrapping
// [ErrInvalidOverwriteKind].
func ParseOverwriteKind(s string) (OverwriteKind, error) {
	switch s {
	case "role":
		return OverwriteRole, nil
	case "member":
		return OverwriteMember, nil
	}
	return 0, fmt.Errorf("parse overwrite kind %s: %w: want \"role\" or \"member\"", quoteInput(s), ErrInvalidOverwriteKind)
}

// MarshalText encodes k as "role" or "member". The zero kind and other
// undefined kinds return an error wrapping [ErrInvalidOverwriteKind].
func (k OverwriteKind) MarshalText() ([]byte, error) {
	if k != OverwriteRole && k != OverwriteMember {
		return nil, fmt.Errorf("encode overwrite kind %d: %w", int(k), ErrInvalidOverwriteKind)
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes text that [ParseOverwriteKind] accepts.
func (k *OverwriteKind) UnmarshalText(text []byte) error {
	parsed, err := ParseOverwriteKind(string(text))
	if err != nil {
		return err
	}
	*k = parsed
	return nil
}
