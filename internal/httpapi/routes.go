package httpapi

// routes lists every route of the client API.
func (a *API) routes(rt *router) {
	rt.handle("GET /health", capDefault, handleHealth())
	rt.handle("GET /ready", capDefault, handleReady(a.db))
	rt.handle("GET /version", capDefault, handleVersion(a.build))
}
