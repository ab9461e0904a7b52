package portal

import (
	"context"
	"embed"
	"net/http"
	"path"
	"strings"

	"github.com/gorilla/mux"
)

// staticFS holds the page: the shell, the 404 page, the stylesheet and the
// scripts. Everything the browser loads comes from here.
//
//go:embed static
var staticFS embed.FS

// Paths answered with the app shell; the script picks the view.
var pagePaths = []string{"/", "/register", "/verify", "/login", "/reset-password", "/account", "/videos", articlePath}

// articlePath is the page of one article.
const articlePath = "/articles/{slug}"

// articlePage serves the shell for an article's page: 200 when the article
// is published (or cannot be looked up), 404 when it is not.
func articlePage(exists func(ctx context.Context, slug string) (bool, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if ok, err := exists(r.Context(), mux.Vars(r)["slug"]); err == nil && !ok {
			status = http.StatusNotFound
		}
		serveFile("index.html", status)(w, r)
	}
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// CSP is the page's Content-Security-Policy: only this origin, no inline
// script or style, no framing by anyone.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Options are what the page's server side may ask of the rest of the
// service.
type Options struct {
	// ArticleExists, when set, tells whether an article with this slug is
	// published, so that /articles/{slug} answers 404 (with the page, which
	// shows its "not found" view) for one that is not, as a crawler or a
	// link checker expects. An error serves the page with 200: the page
	// then asks the API and says what it answers.
	ArticleExists func(ctx context.Context, slug string) (bool, error)
}

// Register adds the page paths and /assets/{name} to r (GET, and HEAD, which
// answers the same headers without the body).
func Register(r *mux.Router, opts Options) {
	for _, p := range pagePaths {
		h := serveFile("index.html", http.StatusOK)
		if p == articlePath && opts.ArticleExists != nil {
			h = articlePage(opts.ArticleExists)
		}
		r.HandleFunc(p, h).Methods(http.MethodGet, http.MethodHead)
	}
	r.HandleFunc("/assets/{name}", func(w http.ResponseWriter, r *http.Request) {
		serveFile(mux.Vars(r)["name"], http.StatusOK)(w, r)
	}).Methods(http.MethodGet, http.MethodHead)
}

// IsPagePath reports whether an unmatched request should get the page's
// 404 rather than the API's JSON one: a GET or HEAD outside /api and the
// analysts' dashboard.
func IsPagePath(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	for _, prefix := range []string{"/api", "/dashboard"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return false
		}
	}
	return true
}

// NotFound answers with the friendly 404 page.
func NotFound(w http.ResponseWriter, r *http.Request) {
	serveFile("404.html", http.StatusNotFound)(w, r)
}

func serveFile(name string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := path.Base(name)
		body, err := staticFS.ReadFile("static/" + name)
		ctype, known := contentTypes[path.Ext(name)]
		if err != nil || !known || name == "." {
			if name == "404.html" { // cannot happen: embedded
				http.Error(w, "not found", http.StatusNotFound)
				return
			}
			NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}
}
