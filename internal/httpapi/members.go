package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/guild"
)

// targetUser resolves a {user_id} path value, where @me is the caller.
func targetUser(r *http.Request, p auth.Principal) string {
	if id := r.PathValue("user_id"); id != "@me" {
		return id
	}
	return p.UserID
}

func handleListMembers(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		limit, err := queryInt(r, "limit", 100, 1, 1000)
		if err != nil {
			return err
		}
		members, err := guilds.Members(r.Context(), p.UserID, r.PathValue("guild_id"), r.URL.Query().Get("after"), int(limit))
		if err != nil {
			return err
		}
		out := make([]apijson.Member, len(members))
		for i, m := range members {
			out[i] = apijson.NewMember(m)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleUpdateMember(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Nickname json.RawMessage `json:"nickname"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		// An absent field is a mistake, not a request to clear: clearing
		// takes an explicit null or "".
		if body.Nickname == nil {
			return validationError(FieldError{Field: "nickname", Message: "is required; send null to clear it"})
		}
		var nickname *string
		if err := json.Unmarshal(body.Nickname, &nickname); err != nil {
			return validationError(FieldError{Field: "nickname", Message: "must be a string or null"})
		}
		m, err := guilds.SetNickname(r.Context(), p.UserID, r.PathValue("guild_id"), targetUser(r, p), nickname)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewMember(m))
		return nil
	}
}

// handleRemoveMember is a leave for @me or the caller's own id, and a kick
// otherwise.
func handleRemoveMember(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.Kick(r.Context(), p.UserID, r.PathValue("guild_id"), targetUser(r, p)); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleBan(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &body); err != nil {
				return err
			}
		}
		if err := guilds.Ban(r.Context(), p.UserID, r.PathValue("guild_id"), r.PathValue("user_id"), body.Reason); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleUnban(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.Unban(r.Context(), p.UserID, r.PathValue("guild_id"), r.PathValue("user_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleListBans(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		bans, err := guilds.Bans(r.Context(), p.UserID, r.PathValue("guild_id"))
		if err != nil {
			return err
		}
		out := make([]apijson.Ban, len(bans))
		for i, b := range bans {
			out[i] = apijson.NewBan(b)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleCreateInvite(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			MaxAgeSeconds *int64 `json:"max_age_seconds"`
			MaxUses       *int   `json:"max_uses"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &body); err != nil {
				return err
			}
		}
		maxAge := 24 * time.Hour // an invite expires after a day unless told otherwise
		if body.MaxAgeSeconds != nil {
			if *body.MaxAgeSeconds < 0 || *body.MaxAgeSeconds > 604800 {
				return validationError(FieldError{Field: "max_age_seconds", Message: "must be 0 (never expires) to 604800"})
			}
			maxAge = time.Duration(*body.MaxAgeSeconds) * time.Second
		}
		maxUses := 0
		if body.MaxUses != nil {
			maxUses = *body.MaxUses
		}
		inv, err := guilds.CreateInvite(r.Context(), p.UserID, r.PathValue("guild_id"), maxAge, maxUses)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, apijson.NewInvite(inv))
		return nil
	}
}

func handleListInvites(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		invites, err := guilds.Invites(r.Context(), p.UserID, r.PathValue("guild_id"))
		if err != nil {
			return err
		}
		out := make([]apijson.Invite, len(invites))
		for i, inv := range invites {
			out[i] = apijson.NewInvite(inv)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleAcceptInvite(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		g, err := guilds.AcceptInvite(r.Context(), p.UserID, r.PathValue("code"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewGuild(g))
		return nil
	}
}

func handleDeleteInvite(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.DeleteInvite(r.Context(), p.UserID, r.PathValue("code")); err != nil {
			return err
		}
		return noContent(w)
	}
}
