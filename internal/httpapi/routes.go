package httpapi

// routes lists every route of the client API.
func (a *API) routes(rt *router) {
	rt.handle("GET /health", capDefault, handleHealth())
	rt.handle("GET /ready", capDefault, handleReady(a.db))
	rt.handle("GET /version", capDefault, handleVersion(a.build))
	rt.handle("GET /.well-known/jwks.json", capDefault, handleJWKS(a.publicKeys))

	rt.handle("POST /api/v1/auth/register", capDefault, a.limitByIP(a.registerLimit, handleRegister(a.accounts)))
	rt.handle("POST /api/v1/auth/login", capDefault, a.limitByIP(a.loginLimit, handleLogin(a.accounts)))
	rt.handle("POST /api/v1/auth/refresh", capDefault, a.limitByIP(a.loginLimit, handleRefresh(a.accounts)))
	rt.handle("POST /api/v1/auth/logout", capDefault, a.authed(handleLogout(a.accounts)))
	rt.handle("GET /api/v1/sessions", capDefault, a.authed(handleListSessions(a.accounts)))
	rt.handle("DELETE /api/v1/sessions/{session_id}", capDefault, a.authed(handleRevokeSession(a.accounts)))

	rt.handle("GET /api/v1/users/@me", capDefault, a.authed(handleGetMe(a.accounts)))
	rt.handle("PATCH /api/v1/users/@me", capDefault, a.authed(handleUpdateMe(a.accounts)))
	rt.handle("DELETE /api/v1/users/@me", capDefault, a.authed(handleDeleteMe(a.accounts)))
	rt.handle("POST /api/v1/users/@me/password", capDefault, a.authed(handleChangePassword(a.accounts)))
	rt.handle("GET /api/v1/users/{user_id}", capDefault, a.authed(handleGetUser(a.accounts)))
}
