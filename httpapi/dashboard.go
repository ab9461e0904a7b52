package httpapi

import (
	"embed"
	"net/http"
	"path"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
)

// dashboardFS holds the analysts' dashboard: a static page whose script
// asks for the analyst token, keeps it in sessionStorage (never in the URL
// sent to the server; a "#token=..." fragment is read once and removed)
// and calls the /api/stats endpoints. Nothing is loaded from elsewhere.
//
//go:embed dashboard/index.html dashboard/app.js dashboard/style.css
var dashboardFS embed.FS

var dashboardTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// dashboardCSP allows only this origin: no CDN, no inline script.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

func (s *Server) dashboardRoutes(r *mux.Router) {
	r.HandleFunc("/dashboard", s.serveDashboardFile("index.html")).Methods(http.MethodGet)
	r.HandleFunc("/dashboard/{asset}", func(w http.ResponseWriter, r *http.Request) {
		s.serveDashboardFile(mux.Vars(r)["asset"])(w, r)
	}).Methods(http.MethodGet)
}

func (s *Server) serveDashboardFile(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := dashboardFS.ReadFile("dashboard/" + path.Base(name))
		ctype, known := dashboardTypes[path.Ext(name)]
		if err != nil || !known {
			s.writeError(w, r, &apperr.Error{Code: apperr.NotFound, Message: "no dashboard asset " + name})
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
}
