package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/portal"
	"github.com/multimedia-portal/multimedia/projections"
)

// portalRoutes serves the people's page (package portal) and its login and
// logout, which keep the session in an HttpOnly cookie instead of handing
// the token to the page's script (see portal/session.go for why).
func (s *Server) portalRoutes(root, api *mux.Router) {
	// The page's login is a login: the same reply floor (an address with
	// an account and one without answer at the same time) and the same
	// hashing slot (parallel logins cannot exhaust the memory).
	floor := s.cfg.ReplyFloors.Login
	if s.cfg.ReplyFloors.Off {
		floor = 0
	}
	api.HandleFunc("/portal/session", atLeast(floor, s.hashing(s.handlePortalLogin).ServeHTTP)).Methods(http.MethodPost)
	api.HandleFunc("/portal/session", s.handlePortalLogout).Methods(http.MethodDelete)
	portal.Register(root, portal.Options{ArticleExists: s.articleExists})
}

// articleExists tells the page whether an article is published; without a
// content read model every slug may exist.
func (s *Server) articleExists(ctx context.Context, slug string) (bool, error) {
	if s.cfg.ContentReads == nil {
		return true, nil
	}
	_, err := s.cfg.ContentReads.Article(ctx, slug)
	if errors.Is(err, projections.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// secureCookies reports whether the page came over TLS, directly or through
// a trusted proxy that says so.
func (s *Server) secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	return err == nil && s.trusted(peer.Unmap())
}

// requestToken is the session token of a request: the bearer token of API
// clients, else the page's cookie when the request carries its CSRF proof
// (portal.ErrCSRF when it does not).
func requestToken(r *http.Request) (string, error) {
	if t := bearer(r); t != "" {
		return t, nil
	}
	return portal.SessionToken(r)
}

var errCSRF = &apperr.Error{Code: apperr.CSRFFailed,
	Message: "this request carries the page's session cookie but not its CSRF token, or comes from another site; reload the page and try again"}

// handlePortalLogin logs in like POST /api/sessions but answers with
// cookies: the token never reaches the page's script.
func (s *Server) handlePortalLogin(w http.ResponseWriter, r *http.Request) {
	if !portal.SameOrigin(r) {
		s.writeError(w, r, errCSRF)
		return
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	device := req.DeviceToken
	if device == "" {
		device = portal.DeviceToken(r)
	}
	res, err := s.cfg.Accounts.Login(r.Context(), commands.Login{Email: req.Email, Password: req.Password,
		DeviceToken: device, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	csrf := portal.SetSession(w, res.Token, res.ExpiresAt, res.DeviceToken, s.secureCookies(r))
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_id": res.AccountID, "expires_at": res.ExpiresAt.UTC(), "csrf_token": csrf, "position": res.Position,
	})
}

// handlePortalLogout ends the cookie's session (when it is still valid) and
// removes the cookies; without the CSRF proof it changes nothing.
func (s *Server) handlePortalLogout(w http.ResponseWriter, r *http.Request) {
	token, err := portal.SessionToken(r)
	if err != nil {
		s.writeError(w, r, errCSRF)
		return
	}
	reply := map[string]any{"status": "logged_out"}
	if token != "" {
		res, err := s.cfg.Accounts.Logout(r.Context(), commands.Logout{Token: token, Meta: requestMeta(r)})
		switch {
		case err == nil:
			reply["position"] = res.Position
		case errors.Is(err, commands.ErrUnauthenticated):
			// Already ended (expired, or a password reset): just forget it.
		default:
			s.writeError(w, r, err)
			return
		}
	}
	portal.ClearSession(w, s.secureCookies(r))
	writeJSON(w, http.StatusOK, reply)
}
