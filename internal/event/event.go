// Package event defines the entries of the homeserver's append-only event
// logs and their canonical JSON form.
//
// Every channel (guild channels and DMs) has a log, and every guild has
// one more, whose id is the guild id, for guild, member and role changes.
// Each log numbers its events from 1 with no gaps. A state change and its
// event are written in one transaction, and the event is published to the
// bus only after that transaction commits, so a client that reads a log
// after a dispatch always finds the event there.
package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Type names what an event records.
type Type string

// Event types. Channel logs hold channel, overwrite, message and reaction
// events; guild logs hold guild, member and role events.
const (
	MessageCreate   Type = "message_create"
	MessageUpdate   Type = "message_update"
	MessageDelete   Type = "message_delete"
	ReactionAdd     Type = "reaction_add"
	ReactionRemove  Type = "reaction_remove"
	ChannelCreate   Type = "channel_create"
	ChannelUpdate   Type = "channel_update"
	ChannelDelete   Type = "channel_delete"
	OverwriteUpdate Type = "overwrite_update"
	OverwriteDelete Type = "overwrite_delete"
	GuildUpdate     Type = "guild_update"
	GuildDelete     Type = "guild_delete"
	MemberAdd       Type = "member_add"
	MemberUpdate    Type = "member_update"
	MemberRemove    Type = "member_remove"
	RoleCreate      Type = "role_create"
	RoleUpdate      Type = "role_update"
	RoleDelete      Type = "role_delete"
)

// Event is one committed entry of a log.
type Event struct {
	LogID     string // a channel id, or a guild id for the guild's own log
	GuildID   string // the guild the log belongs to; empty for DMs
	Seq       int64  // 1, 2, 3, … per log, without gaps
	Type      Type
	Data      json.RawMessage // canonical JSON
	CreatedAt time.Time
}

// Pending is an event about to be appended: its log, type and data.
type Pending struct {
	LogID   string
	GuildID string
	Type    Type
	Data    any

	// SubjectID, for message events, is the message's id, so that
	// deleting the message can erase the content of its events.
	SubjectID string
}

// Canonical encodes v as canonical JSON: object keys sorted by their
// UTF-16 code units as encoding/json sorts map keys, no insignificant
// white space, no HTML escaping, and numbers as they were written. The
// same value always gives the same bytes, which signatures and hashes of
// events rely on.
func Canonical(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}

	// Decoding into interface values turns every object into a map, whose
	// keys encoding/json writes in sorted order.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("decode event data: %w", err)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("encode canonical event data: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
