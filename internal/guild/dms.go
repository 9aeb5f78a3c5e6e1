package guild

import (
	"context"
	"errors"
	"slices"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/validate"
)

// maxGroupDMRecipients is how many people a group DM may add besides its
// creator.
const maxGroupDMRecipients = 9

// CreateDM opens a direct message: a dm with one recipient, the same
// channel again for a pair that has one (created false), or a group_dm
// with 2 to 9 recipients. ErrDMBlocked when a recipient accepts DMs only
// from people sharing a guild and shares none with the caller.
func (s *Service) CreateDM(ctx context.Context, userID string, recipientIDs []string) (Channel, bool, error) {
	recipients, err := s.checkRecipients(ctx, userID, recipientIDs)
	if err != nil {
		return Channel{}, false, err
	}

	kind := KindDM
	if len(recipients) > 1 {
		kind = KindGroupDM
	}
	participants := append([]string{userID}, recipients...)
	slices.Sort(participants)

	c := Channel{ID: newID(), Kind: kind, CreatedAt: s.now(), ParticipantIDs: participants}
	ch, created, events, err := s.store.CreateDM(ctx, c)
	if err != nil {
		return Channel{}, false, err
	}
	s.commit("", events)
	return ch, created, nil
}

// checkRecipients validates the recipient list and each recipient's DM
// policy, and returns the recipients without duplicates.
func (s *Service) checkRecipients(ctx context.Context, userID string, ids []string) ([]string, error) {
	unique := slices.Clone(ids)
	slices.Sort(unique)
	unique = slices.Compact(unique)
	if len(unique) != len(ids) || len(unique) < 1 || len(unique) > maxGroupDMRecipients || slices.Contains(unique, userID) {
		return nil, &validate.Error{Field: "recipient_ids",
			Message: "must list 1 to 9 distinct users other than yourself"}
	}

	for _, id := range unique {
		u, err := s.users.User(ctx, id)
		if errors.Is(err, auth.ErrNotFound) {
			return nil, &validate.Error{Field: "recipient_ids", Message: "names a user who does not exist"}
		}
		if err == nil && u.Deleted() {
			return nil, &validate.Error{Field: "recipient_ids", Message: "names a user who has deleted their account"}
		}
		if err != nil {
			return nil, err
		}
		if u.DMPolicy == auth.DMPolicySharedGuilds {
			shares, err := s.store.SharesGuild(ctx, userID, id)
			if err != nil {
				return nil, err
			}
			if !shares {
				return nil, ErrDMBlocked
			}
		}
	}
	return unique, nil
}

// DMs lists the caller's direct-message channels.
func (s *Service) DMs(ctx context.Context, userID string) ([]Channel, error) {
	return s.store.DMs(ctx, userID)
}
