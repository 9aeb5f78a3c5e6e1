package permission

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Set is a bitset of permissions. Its text and JSON form is the decimal
// string of its value, such as "3" for ViewChannel|SendMessages, because a
// JSON number cannot carry 64 bits exactly in every client.
type Set uint64

// Permission bits, numbered as in the client API. The comment on each
// constant is its client API name.
const (
	ViewChannel        Set = 1 << 0  // VIEW_CHANNEL
	SendMessages       Set = 1 << 1  // SEND_MESSAGES
	ReadMessageHistory Set = 1 << 2  // READ_MESSAGE_HISTORY
	ManageMessages     Set = 1 << 3  // MANAGE_MESSAGES
	AddReactions       Set = 1 << 4  // ADD_REACTIONS
	AttachFiles        Set = 1 << 5  // ATTACH_FILES
	MentionEveryone    Set = 1 << 6  // MENTION_EVERYONE
	CreateInvite       Set = 1 << 7  // CREATE_INVITE
	ManageChannels     Set = 1 << 8  // MANAGE_CHANNELS
	ManageRoles        Set = 1 << 9  // MANAGE_ROLES
	ManageGuild        Set = 1 << 10 // MANAGE_GUILD
	KickMembers        Set = 1 << 11 // KICK_MEMBERS
	BanMembers         Set = 1 << 12 // BAN_MEMBERS
	Connect            Set = 1 << 13 // CONNECT
	Speak              Set = 1 << 14 // SPEAK
	MuteMembers        Set = 1 << 15 // MUTE_MEMBERS
	DeafenMembers      Set = 1 << 16 // DEAFEN_MEMBERS
	MoveMembers        Set = 1 << 17 // MOVE_MEMBERS
	ChangeNickname     Set = 1 << 18 // CHANGE_NICKNAME
	ManageNicknames    Set = 1 << 19 // MANAGE_NICKNAMES
	ViewAuditLog       Set = 1 << 20 // VIEW_AUDIT_LOG
	ManageWebhooks     Set = 1 << 21 // MANAGE_WEBHOOKS

	// Administrator grants every permission in the guild and in each of
	// its channels, regardless of channel overwrites.
	Administrator Set = 1 << 40 // ADMINISTRATOR
)

// Named sets.
const (
	// All is every defined permission bit: bits 0 to 21 and bit 40. The
	// guild owner and holders of Administrator have All.
	All Set = (1<<22 - 1) | Administrator

	// EveryoneDefault is the permission set of a new guild's @everyone role.
	EveryoneDefault = ViewChannel | SendMessages | ReadMessageHistory |
		AddReactions | AttachFiles | CreateInvite | Connect | Speak |
		ChangeNickname

	// DMParticipant is the permission set of each participant in a direct
	// message or group DM channel.
	DMParticipant = ViewChannel | SendMessages | ReadMessageHistory |
		AddReactions | AttachFiles
)

// maxSetInput is the length of the longest input quoted whole in an error.
// No valid set is longer than 20 digits, the length of 2^64-1.
const maxSetInput = 24

// Has reports whether s contains every bit of p. Every set has the empty
// set, so Has(0) is true.
func (s Set) Has(p Set) bool {
	return s&p == p
}

// String returns the decimal form of s, such as "1027".
func (s Set) String() string {
	return strconv.FormatUint(uint64(s), 10)
}

// Names returns the client API names of the permissions in s in ascending
// bit order, such as [VIEW_CHANNEL SEND_MESSAGES] for 3. Bits that no
// permission uses are left out.
func (s Set) Names() []string {
	defined := s & All
	names := make([]string, 0, bits.OnesCount64(uint64(defined)))
	for rest := defined; rest != 0; rest &= rest - 1 {
		names = append(names, bitName(bits.TrailingZeros64(uint64(rest))))
	}
	return names
}

// ParseSet parses the decimal string form of a permission set, such as
// "1027". Only ASCII digits are accepted, so a sign, whitespace, an
// underscore or an exponent is rejected, as is a value above 2^64-1. Leading
// zeros are accepted. A value with a bit that no permission uses is
// rejected too, so that clients cannot store bits that a later version may
// give a meaning to. Every error wraps [ErrInvalidSet].
func ParseSet(s string) (Set, error) {
	if s == "" {
		return 0, fmt.Errorf("parse permission set: %w: empty string, want decimal digits", ErrInvalidSet)
	}

	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("parse permission set %s: %w: byte %q at offset %d is not a decimal digit",
				quoteInput(s), ErrInvalidSet, s[i], i)
		}
	}

	// Only digits remain, so the one possible error is a range error.
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse permission set %s: %w: value exceeds the maximum of %d",
			quoteInput(s), ErrInvalidSet, uint64(1<<64-1))
	}

	set := Set(v)
	if undefined := set &^ All; undefined != 0 {
		return 0, fmt.Errorf("parse permission set %s: %w: undefined bits %s (only bits 0 to 21 and 40 name permissions)",
			quoteInput(s), ErrInvalidSet, bitNumbers(undefined))
	}
	return set, nil
}

// MarshalJSON encodes s as a JSON string of decimal digits, such as "1027".
func (s Set) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(s), 10)
	b = append(b, '"')
	return b, nil
}

// UnmarshalJSON decodes a JSON string that [ParseSet] accepts. A JSON
// number is rejected because the client API sends permission sets as
// strings. JSON null leaves s unchanged, as encoding/json does for other
// types. Every error wraps [ErrInvalidSet].
func (s *Set) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}

	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("decode permission set %s: %w: want a JSON string of decimal digits",
			quoteInput(string(data)), ErrInvalidSet)
	}

	parsed, err := ParseSet(text)
	if err != nil {
		return err
	}
	*s = parsed
	return nil
}

// quoteInput quotes s for an error message, cut to maxSetInput bytes so
// that a long request value cannot flood a log line.
func quoteInput(s string) string {
	if len(s) <= maxSetInput {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxSetInput]) + "..."
}

// bitNumbers lists the bit numbers of s, such as "22, 41".
func bitNumbers(s Set) string {
	var b strings.Builder
	for rest := s; rest != 0; rest &= rest - 1 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(bits.TrailingZeros64(uint64(rest))))
	}
	return b.String()
}

// bitName returns the client API name of a defined bit number, or "" for a
// bit that no permission uses.
func bitName(bit int) string {
	switch Set(1) << bit {
	case ViewChannel:
		return "VIEW_CHANNEL"
	case SendMessages:
		return "SEND_MESSAGES"
	case ReadMessageHistory:
		return "READ_MESSAGE_HISTORY"
	case ManageMessages:
		return "MANAGE_MESSAGES"
	case AddReactions:
		return "ADD_REACTIONS"
	case AttachFiles:
		return "ATTACH_FILES"
	case MentionEveryone:
		return "MENTION_EVERYONE"
	case CreateInvite:
		return "CREATE_INVITE"
	case ManageChannels:
		return "MANAGE_CHANNELS"
	case ManageRoles:
		return "MANAGE_ROLES"
	case ManageGuild:
		return "MANAGE_GUILD"
	case KickMembers:
		return "KICK_MEMBERS"
	case BanMembers:
		return "BAN_MEMBERS"
	case Connect:
		return "CONNECT"
	case Speak:
		return "SPEAK"
	case MuteMembers:
		return "MUTE_MEMBERS"
	case DeafenMembers:
		return "DEAFEN_MEMBERS"
	case MoveMembers:
		return "MOVE_MEMBERS"
	case ChangeNickname:
		return "CHANGE_NICKNAME"
	case ManageNicknames:
		return "MANAGE_NICKNAMES"
	case ViewAuditLog:
		return "VIEW_AUDIT_LOG"
	case ManageWebhooks:
		return "MANAGE_WEBHOOKS"
	case Administrator:
		return "ADMINISTRATOR"
	}
	return ""
}
