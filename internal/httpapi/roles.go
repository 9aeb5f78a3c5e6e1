package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/openguild/openguild/internal/apijson"
	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/guild"
	"github.com/openguild/openguild/internal/permission"
)

// parsePermissions reads a permission bitset written as a decimal string,
// naming the field when it is not one.
func parsePermissions(field string, raw *string) (*permission.Set, error) {
	if raw == nil {
		return nil, nil
	}
	set, err := permission.ParseSet(*raw)
	if err != nil {
		return nil, validationError(FieldError{Field: field, Message: "must be a decimal string of defined permission bits"})
	}
	return &set, nil
}

func handleListRoles(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		roles, err := guilds.Roles(r.Context(), p.UserID, r.PathValue("guild_id"))
		if err != nil {
			return err
		}
		out := make([]apijson.Role, len(roles))
		for i, role := range roles {
			out[i] = apijson.NewRole(role)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func handleCreateRole(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name        string  `json:"name"`
			Permissions *string `json:"permissions"`
			Position    *int    `json:"position"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		perms, err := parsePermissions("permissions", body.Permissions)
		if err != nil {
			return err
		}
		req := guild.RoleRequest{Name: body.Name}
		if perms != nil {
			req.Permissions = *perms
		}
		if body.Position != nil {
			if *body.Position < 1 {
				return validationError(FieldError{Field: "position", Message: "must be 1 or higher"})
			}
			req.Position = *body.Position
		}
		role, err := guilds.CreateRole(r.Context(), p.UserID, r.PathValue("guild_id"), req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, apijson.NewRole(role))
		return nil
	}
}

func handleUpdateRole(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Name        *string `json:"name"`
			Permissions *string `json:"permissions"`
			Position    *int    `json:"position"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		perms, err := parsePermissions("permissions", body.Permissions)
		if err != nil {
			return err
		}
		role, err := guilds.UpdateRole(r.Context(), p.UserID, r.PathValue("guild_id"), r.PathValue("role_id"),
			guild.RoleUpdate{Name: body.Name, Permissions: perms, Position: body.Position})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apijson.NewRole(role))
		return nil
	}
}

func handleDeleteRole(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.DeleteRole(r.Context(), p.UserID, r.PathValue("guild_id"), r.PathValue("role_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

// handleMemberRole gives a member a role, or takes it away.
func handleMemberRole(guilds *guild.Service, add bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		change := guilds.RemoveMemberRole
		if add {
			change = guilds.AddMemberRole
		}
		if err := change(r.Context(), p.UserID, r.PathValue("guild_id"), targetUser(r, p), r.PathValue("role_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleSetOverwrite(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			Type  string  `json:"type"`
			Allow *string `json:"allow"`
			Deny  *string `json:"deny"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		allow, err := parsePermissions("allow", body.Allow)
		if err != nil {
			return err
		}
		deny, err := parsePermissions("deny", body.Deny)
		if err != nil {
			return err
		}
		req := guild.OverwriteRequest{TargetID: r.PathValue("target_id"), Type: body.Type}
		if allow != nil {
			req.Allow = *allow
		}
		if deny != nil {
			req.Deny = *deny
		}
		if err := guilds.SetOverwrite(r.Context(), p.UserID, r.PathValue("channel_id"), req); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleDeleteOverwrite(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := guilds.DeleteOverwrite(r.Context(), p.UserID, r.PathValue("channel_id"), r.PathValue("target_id")); err != nil {
			return err
		}
		return noContent(w)
	}
}

func handleCreateDM(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var body struct {
			RecipientIDs []string `json:"recipient_ids"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		c, created, err := guilds.CreateDM(r.Context(), p.UserID, body.RecipientIDs)
		if errors.Is(err, guild.ErrDMBlocked) {
			return &Error{Status: http.StatusForbidden, Code: "dm_blocked",
				Message: "A recipient accepts direct messages only from people who share a guild with them.", Cause: err}
		}
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, apijson.NewChannel(c, p.UserID))
		return nil
	}
}

func handleListDMs(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		list, err := guilds.DMs(r.Context(), p.UserID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, channelList(list, p.UserID))
		return nil
	}
}

func handleListOverwrites(guilds *guild.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		channelID := r.PathValue("channel_id")
		list, err := guilds.Overwrites(r.Context(), p.UserID, channelID)
		if err != nil {
			return err
		}
		out := make([]apijson.Overwrite, len(list))
		for i, o := range list {
			out[i] = apijson.NewOverwrite(channelID, o)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// permissionsJSON is the body of the routes that report the caller's
// own permissions.
type permissionsJSON struct {
	Permissions permission.Set `json:"permissions"`
}

// handleMyPermissions reports the caller's permissions in the guild or
// channel that the path value param names, as lookup computes them.
func handleMyPermissions(param string, lookup func(ctx context.Context, userID, id string) (permission.Set, error)) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		perms, err := lookup(r.Context(), p.UserID, r.PathValue(param))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, permissionsJSON{Permissions: perms})
		return nil
	}
}
