package httpapi

// routes lists every route of the client API.
func (a *API) routes(rt *router) {
	rt.handle("GET /health", capDefault, handleHealth())
	rt.handle("GET /ready", capDefault, handleReady(a.db))
	rt.handle("GET /version", capDefault, handleVersion(a.build))
	rt.handle("GET /.well-known/jwks.json", capDefault, handleJWKS(a.publicKeys))

	rt.handleLimited("POST /api/v1/auth/register", capDefault, ownLimit, a.limitByIP(a.registerLimit, handleRegister(a.accounts)))
	rt.handleLimited("POST /api/v1/auth/login", capDefault, ownLimit, a.limitByIP(a.loginLimit, handleLogin(a.accounts)))
	rt.handleLimited("POST /api/v1/auth/refresh", capDefault, ownLimit, a.limitByIP(a.loginLimit, handleRefresh(a.accounts)))
	rt.handle("POST /api/v1/auth/logout", capDefault, a.authed(handleLogout(a.accounts)))
	rt.handle("GET /api/v1/sessions", capDefault, a.authed(handleListSessions(a.accounts)))
	rt.handle("DELETE /api/v1/sessions/{session_id}", capDefault, a.authed(handleRevokeSession(a.accounts)))

	rt.handle("GET /api/v1/users/@me", capDefault, a.authed(handleGetMe(a.accounts)))
	rt.handle("PATCH /api/v1/users/@me", capDefault, a.authed(a.handleUpdateMe))
	rt.handle("DELETE /api/v1/users/@me", capDefault, a.authed(a.handleDeleteMe))
	rt.handle("POST /api/v1/users/@me/password", capDefault, a.authed(handleChangePassword(a.accounts)))
	rt.handle("GET /api/v1/users/{user_id}", capDefault, a.authed(handleGetUser(a.accounts)))

	rt.handle("POST /api/v1/guilds", capDefault, a.authed(handleCreateGuild(a.guilds)))
	rt.handle("GET /api/v1/guilds", capDefault, a.authed(handleListGuilds(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}", capDefault, a.authed(handleGetGuild(a.guilds)))
	rt.handle("PATCH /api/v1/guilds/{guild_id}", capDefault, a.authed(handleUpdateGuild(a.guilds)))
	rt.handle("DELETE /api/v1/guilds/{guild_id}", capDefault, a.authed(handleDeleteGuild(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}/permissions/@me", capDefault, a.authed(handleMyPermissions("guild_id", a.guilds.MyGuildPermissions)))
	rt.handle("GET /api/v1/guilds/{guild_id}/events", capDefault, a.authed(handleEvents(a.guilds, true)))

	rt.handle("POST /api/v1/guilds/{guild_id}/channels", capDefault, a.authed(handleCreateChannel(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}/channels", capDefault, a.authed(handleListChannels(a.guilds)))
	rt.handle("GET /api/v1/channels/{channel_id}", capDefault, a.authed(handleGetChannel(a.guilds)))
	rt.handle("PATCH /api/v1/channels/{channel_id}", capDefault, a.authed(handleUpdateChannel(a.guilds)))
	rt.handle("DELETE /api/v1/channels/{channel_id}", capDefault, a.authed(handleDeleteChannel(a.guilds)))
	rt.handle("GET /api/v1/channels/{channel_id}/events", capDefault, a.authed(handleEvents(a.guilds, false)))
	rt.handle("GET /api/v1/channels/{channel_id}/permissions", capDefault, a.authed(handleListOverwrites(a.guilds)))
	rt.handle("GET /api/v1/channels/{channel_id}/permissions/@me", capDefault, a.authed(handleMyPermissions("channel_id", a.guilds.MyChannelPermissions)))
	rt.handle("PUT /api/v1/channels/{channel_id}/permissions/{target_id}", capDefault, a.authed(handleSetOverwrite(a.guilds)))
	rt.handle("DELETE /api/v1/channels/{channel_id}/permissions/{target_id}", capDefault, a.authed(handleDeleteOverwrite(a.guilds)))

	rt.handle("POST /api/v1/guilds/{guild_id}/invites", capDefault, a.authed(handleCreateInvite(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}/invites", capDefault, a.authed(handleListInvites(a.guilds)))
	rt.handle("POST /api/v1/invites/{code}/accept", capDefault, a.authed(handleAcceptInvite(a.guilds)))
	rt.handle("DELETE /api/v1/invites/{code}", capDefault, a.authed(handleDeleteInvite(a.guilds)))

	rt.handle("GET /api/v1/guilds/{guild_id}/members", capDefault, a.authed(handleListMembers(a.guilds)))
	rt.handle("PATCH /api/v1/guilds/{guild_id}/members/{user_id}", capDefault, a.authed(handleUpdateMember(a.guilds)))
	rt.handle("DELETE /api/v1/guilds/{guild_id}/members/{user_id}", capDefault, a.authed(handleRemoveMember(a.guilds)))
	rt.handle("PUT /api/v1/guilds/{guild_id}/members/{user_id}/roles/{role_id}", capDefault, a.authed(handleMemberRole(a.guilds, true)))
	rt.handle("DELETE /api/v1/guilds/{guild_id}/members/{user_id}/roles/{role_id}", capDefault, a.authed(handleMemberRole(a.guilds, false)))
	rt.handle("PUT /api/v1/guilds/{guild_id}/bans/{user_id}", capDefault, a.authed(handleBan(a.guilds)))
	rt.handle("DELETE /api/v1/guilds/{guild_id}/bans/{user_id}", capDefault, a.authed(handleUnban(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}/bans", capDefault, a.authed(handleListBans(a.guilds)))

	rt.handle("POST /api/v1/guilds/{guild_id}/roles", capDefault, a.authed(handleCreateRole(a.guilds)))
	rt.handle("GET /api/v1/guilds/{guild_id}/roles", capDefault, a.authed(handleListRoles(a.guilds)))
	rt.handle("PATCH /api/v1/guilds/{guild_id}/roles/{role_id}", capDefault, a.authed(handleUpdateRole(a.guilds)))
	rt.handle("DELETE /api/v1/guilds/{guild_id}/roles/{role_id}", capDefault, a.authed(handleDeleteRole(a.guilds)))

	rt.handle("POST /api/v1/dms", capDefault, a.authed(handleCreateDM(a.guilds)))
	rt.handle("GET /api/v1/dms", capDefault, a.authed(handleListDMs(a.guilds)))

	rt.handleLimited("POST /api/v1/channels/{channel_id}/messages", capMessage, ownLimit, a.authed(a.handleSendMessage(a.messages)))
	rt.handle("GET /api/v1/channels/{channel_id}/messages", capDefault, a.authed(handleListMessages(a.messages)))
	rt.handle("GET /api/v1/channels/{channel_id}/messages/{message_id}", capDefault, a.authed(handleGetMessage(a.messages)))
	rt.handle("PATCH /api/v1/channels/{channel_id}/messages/{message_id}", capMessage, a.authed(a.handleEditMessage(a.messages)))
	rt.handle("DELETE /api/v1/channels/{channel_id}/messages/{message_id}", capDefault, a.authed(handleDeleteMessage(a.messages)))
	rt.handle("PUT /api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", capDefault, a.authed(handleReact(a.messages, true)))
	rt.handle("DELETE /api/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", capDefault, a.authed(handleReact(a.messages, false)))
	rt.handle("PUT /api/v1/channels/{channel_id}/read", capDefault, a.authed(handleMarkRead(a.messages)))

	rt.handleLimited("POST /api/v1/media", uncapped, ownLimit, a.authed(a.handleUpload(a.media, a.uploadLimit)))
	rt.handle("GET /api/v1/media/{media_id}", capDefault, a.authed(handleGetMedia(a.media)))
	rt.handle("GET /api/v1/media/{media_id}/thumbnail", capDefault, a.authed(handleThumbnail(a.media)))
	rt.handle("DELETE /api/v1/media/{media_id}", capDefault, a.authed(handleDeleteMedia(a.media)))

	rt.handleLimited("GET /api/v1/gateway", capDefault, ownLimit, a.handleGateway)
	rt.handle("POST /api/v1/channels/{channel_id}/typing", capDefault, a.authed(handleTyping(a.gateway)))
}
