package httpapi

import (
	"errors"
	"net/http"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/event"
	"github.com/openguild/openguild/internal/guild"
)

func handleCreateGuild(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name string `json:"name"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		g, err := guilds.CreateGuild(r.Context(), p.UserID, body.Name)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, apijson.NewGuild(g))
		return nil
	}
}

func handleListGuilds(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		list, err := guilds.Guilds(r.Context(), p.UserID)
		if err != nil {
			return err
		}
		out := make([]apijson.Guild, len(list))
		for i, g := range list {
			out[i] = apijson.NewGuild(g)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleGetGuild(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		g, err := guilds.Guild(r.Context(), p.UserID, r.PathValue("guild_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewGuild(g))
		return nil
	}
}

func handleUpdateGuild(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
			OwnerID     *string `json:"owner_id"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		g, err := guilds.UpdateGuild(r.Context(), p.UserID, r.PathValue("guild_id"),
			guild.GuildRequest{Name: body.Name, Description: body.Description, OwnerID: body.OwnerID})
		if errors.Is(err, guild.ErrNotMember) {
			return validationError(FieldError{Field: "owner_id", Message: "must name a member of this guild"})
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewGuild(g))
		return nil
	}
}

func handleDeleteGuild(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.DeleteGuild(r.Context(), p.UserID, r.PathValue("guild_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleCreateChannel(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name     string  `json:"name"`
			Kind     string  `json:"kind"`
			ParentID *string `json:"parent_id"`
			Topic    *string `json:"topic"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		req := guild.ChannelRequest{Name: body.Name, Kind: body.Kind}
		if body.ParentID != nil {
			req.ParentID = *body.ParentID
		}
		if body.Topic != nil {
			req.Topic = *body.Topic
		}
		c, err := guilds.CreateChannel(r.Context(), p.UserID, r.PathValue("guild_id"), req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, apijson.NewChannel(c, p.UserID))
		return nil
	}
}

func handleListChannels(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		list, err := guilds.Channels(r.Context(), p.UserID, r.PathValue("guild_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, channelList(list, p.UserID))
		return nil
	}
}

func channelList(list []guild.Channel, viewerID string) []apijson.Channel {
	out := make([]apijson.Channel, len(list))
	for i, c := range list {
		out[i] = apijson.NewChannel(c, viewerID)
	}
	return out
}

func handleGetChannel(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		c, err := guilds.Channel(r.Context(), p.UserID, r.PathValue("channel_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewChannel(c, p.UserID))
		return nil
	}
}

func handleUpdateChannel(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name            *string `json:"name"`
			Topic           *string `json:"topic"`
			Position        *int    `json:"position"`
			ParentID        *string `json:"parent_id"`
			SlowmodeSeconds *int    `json:"slowmode_seconds"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		c, err := guilds.UpdateChannel(r.Context(), p.UserID, r.PathValue("channel_id"), guild.ChannelUpdate{
			Name: body.Name, Topic: body.Topic, Position: body.Position, ParentID: body.ParentID, SlowmodeSeconds: body.SlowmodeSeconds,
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewChannel(c, p.UserID))
		return nil
	}
}

func handleDeleteChannel(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.DeleteChannel(r.Context(), p.UserID, r.PathValue("channel_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

// eventJSON is the API form of a log entry.
type eventJSON struct {
	Seq       int64      `json:"seq"`
	ChannelID string     `json:"channel_id"`
	Type      event.Type `json:"type"`
	Data      rawJSON    `json:"data"`
	CreatedAt string     `json:"created_at"`
}

// rawJSON writes stored canonical JSON as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// handleEvents serves a log after after_seq, for clients catching up.
// guildLog selects the guild's own log instead of a channel's.
func handleEvents(guilds *guild.Service, guildLog bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		after, err := queryInt(r, "after_seq", 0, 0, 1<<53)
		if err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100, 1, 1000)
		if err != nil {
			return err
		}
		logID := r.PathValue("channel_id")
		if guildLog {
			logID = r.PathValue("guild_id")
		}
		events, err := guilds.Events(r.Context(), p.UserID, logID, guildLog, after, int(limit))
		if err != nil {
			return err
		}
		out := make([]eventJSON, len(events))
		for i, e := range events {
			out[i] = eventJSON{Seq: e.Seq, ChannelID: e.LogID, Type: e.Type, Data: rawJSON(e.Data), CreatedAt: apijson.Time(e.CreatedAt)}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}
