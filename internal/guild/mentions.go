package guild

import (
	"context"
	"slices"
)

// KnownMentions keeps, in order, the mentioned users who are members of
// the channel's guild (or participants of a DM) and the mentioned roles
// of that guild. The @everyone role is dropped: mentioning everyone is
// the everyone flag's job, which MENTION_EVERYONE guards.
func (s *Service) KnownMentions(ctx context.Context, ch Channel, userIDs, roleIDs []string) (users, roles []string, err error) {
	if ch.GuildID == "" {
		return keep(userIDs, ch.ParticipantIDs), []string{}, nil
	}

	users, roles = []string{}, []string{}
	if len(userIDs) > 0 {
		members, err := s.store.MemberIDs(ctx, ch.GuildID, userIDs)
		if err != nil {
			return nil, nil, err
		}
		users = keep(userIDs, members)
	}
	if len(roleIDs) > 0 {
		guildRoles, err := s.store.Roles(ctx, ch.GuildID)
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, r := range guildRoles {
			if r.ID != ch.GuildID {
				ids = append(ids, r.ID)
			}
		}
		roles = keep(roleIDs, ids)
	}
	return users, roles, nil
}

// keep returns the ids that allowed contains, in their order.
func keep(ids, allowed []string) []string {
	out := []string{}
	for _, id := range ids {
		if slices.Contains(allowed, id) {
			out = append(out, id)
		}
	}
	return out
}
