package gateway

import (
	"context"
	"encoding/json"
	"fmt"
)

// userUpdate is the dispatch type of a profile change. It belongs to no
// event log, so its frames carry neither channel_id nor seq.
const userUpdate = "user_update"

// UserUpdate sends user, the public form of a profile, as a user_update
// dispatch to the user and to everyone sharing a guild or a DM with them.
// leftGuildIDs adds guilds just left, such as on an account deletion.
func (h *Hub) UserUpdate(ctx context.Context, userID string, user any, leftGuildIDs []string) error {
	guilds, err := h.deps.Guilds.Guilds(ctx, userID)
	if err != nil {
		return fmt.Errorf("dispatch profile of user %s: %w", userID, err)
	}
	dms, err := h.deps.Guilds.DMs(ctx, userID)
	if err != nil {
		return fmt.Errorf("dispatch profile of user %s: %w", userID, err)
	}

	guildIDs := append([]string(nil), leftGuildIDs...)
	for _, g := range guilds {
		guildIDs = append(guildIDs, g.ID)
	}
	userIDs := []string{userID}
	for _, ch := range dms {
		userIDs = append(userIDs, ch.ParticipantIDs...)
	}

	payload, err := json.Marshal(struct {
		Op string `json:"op"`
		T  string `json:"t"`
		D  any    `json:"d"`
	}{opDispatch, userUpdate, user})
	if err != nil {
		return fmt.Errorf("dispatch profile of user %s: %w", userID, err)
	}
	f := frame{data: payload}
	seen := map[*conn]bool{}
	for _, c := range append(h.guildsConns(guildIDs), h.userConnsOf(userIDs)...) {
		if !seen[c] {
			seen[c] = true
			c.send(f)
		}
	}
	return nil
}
