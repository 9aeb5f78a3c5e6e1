// Package webui serves the built web client: the files of the bundle, and
// index.html for every other path so that the client's own routes (such as
// /invite/CODE and /channels/...) load the app. The API router sends it
// only GET and HEAD requests for paths outside /api/.
package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// ContentSecurityPolicy is the policy of the client's pages, in place of
// the API's `default-src 'none'`. The bundle loads its own script, style,
// fonts and manifest. It shows images from blob: URLs, which it makes from
// media fetched with the bearer token, and data: URLs for small icons. It
// connects only to its own origin, the gateway WebSocket included. Nothing
// inline may run, and no page may frame the client.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Cache lifetimes. Files under assets/ carry a content hash in their name,
// so they never change and may be kept for a year. index.html names the
// current hashes, so browsers revalidate it on every load.
const (
	immutableCache = "public, max-age=31536000, immutable"
	revalidate     = "no-cache"
)

const assetsPrefix = "/assets/"

// Handler returns the handler that serves the client in fsys, which has
// index.html at its root. A missing file under /assets/ gets 404, since an
// old page asking for a replaced bundle must not get HTML as script. When
// fsys has no index.html, every request gets 503 with a hint to build the
// client.
func Handler(fsys fs.FS) http.Handler {
	return &handler{fsys: fsys, files: make(map[string]*file)}
}

type file struct {
	body    []byte
	etag    string
	modTime time.Time
}

type handler struct {
	fsys fs.FS

	mu    sync.Mutex // guards files
	files map[string]*file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("Content-Security-Policy", ContentSecurityPolicy)

	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || name == "index.html" {
		h.serveIndex(w, r)
		return
	}

	f, err := h.load(name)
	switch {
	case err == nil:
		if strings.HasPrefix("/"+name, assetsPrefix) {
			header.Set("Cache-Control", immutableCache)
		} else {
			header.Set("Cache-Control", revalidate)
		}
		serve(w, r, name, f)
	case strings.HasPrefix("/"+name, assetsPrefix):
		header.Set("Cache-Control", revalidate)
		http.Error(w, "This asset does not exist. Reload the page to get the current client.", http.StatusNotFound)
	default:
		h.serveIndex(w, r)
	}
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	f, err := h.load("index.html")
	if err != nil {
		w.Header().Set("Cache-Control", revalidate)
		http.Error(w, "The web client is not built into this binary. Run `npm ci && npm run build` in web/ and rebuild the server.",
			http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", revalidate)
	serve(w, r, "index.html", f)
}

// load reads a file of the bundle once and keeps it, with its ETag, for
// later requests. Directories count as missing.
func (h *handler) load(name string) (*file, error) {
	h.mu.Lock()
	f, ok := h.files[name]
	h.mu.Unlock()
	if ok {
		return f, nil
	}

	info, err := fs.Stat(h.fsys, name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, errors.New("webui: " + name + " is a directory")
	}
	body, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	f = &file{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, modTime: info.ModTime()}

	h.mu.Lock()
	h.files[name] = f
	h.mu.Unlock()
	return f, nil
}

// serve writes f with the content type of its extension. http.ServeContent
// handles HEAD, Range and If-None-Match requests.
func serve(w http.ResponseWriter, r *http.Request, name string, f *file) {
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, name, f.modTime, bytes.NewReader(f.body))
}
