package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/projections"
)

// The same reply for every outcome of the public code-sending endpoints, so
// that nobody can learn whether an address has an account.
var (
	registerAccepted = map[string]string{"status": "accepted",
		"message": "If this address can be registered, a verification code is on its way. It expires in 30 minutes."}
	codeAccepted = map[string]string{"status": "accepted",
		"message": "If this address has an account that needs a code, a new code is on its way. It expires in 30 minutes."}
)

type registerRequest struct {
	Email      string `json:"email" required:"true"`
	Password   string `json:"password" required:"true"`
	Newsletter bool   `json:"newsletter"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := passwordTooLong("password", req.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	_, err := s.cfg.Accounts.Register(r.Context(), commands.Register{
		Email: req.Email, Password: req.Password, Newsletter: req.Newsletter, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, registerAccepted)
}

type emailRequest struct {
	Email string `json:"email" required:"true"`
}

func (s *Server) handleResendCode(w http.ResponseWriter, r *http.Request) {
	s.requestCode(w, r, s.cfg.Accounts.RequestVerificationCode)
}

func (s *Server) handleResetRequest(w http.ResponseWriter, r *http.Request) {
	s.requestCode(w, r, func(ctx context.Context, cmd commands.RequestVerificationCode) (commands.CodeOutcome, commands.Result, error) {
		return s.cfg.Accounts.RequestPasswordReset(ctx, commands.RequestPasswordReset(cmd))
	})
}

func (s *Server) requestCode(w http.ResponseWriter, r *http.Request,
	run func(context.Context, commands.RequestVerificationCode) (commands.CodeOutcome, commands.Result, error)) {
	var req emailRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	outcome, _, err := run(r.Context(), commands.RequestVerificationCode{Email: req.Email, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.DebugContext(r.Context(), "code request", "outcome", string(outcome))
	writeJSON(w, http.StatusAccepted, codeAccepted)
}

type verifyRequest struct {
	Email string `json:"email" required:"true"`
	Code  string `json:"code" required:"true"`
	// Password is the one typed when registering: verification sets it,
	// replacing the registration's, which may be a stranger's who
	// registered the address first. An addition to the first design's
	// {email, code} (issue 10, item 2).
	Password string `json:"password" required:"true"`
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := passwordTooLong("password", req.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Accounts.VerifyEmail(r.Context(), commands.VerifyEmail{Email: req.Email, Code: req.Code,
		Password: req.Password, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "verified", "account_id": res.AccountID, "position": s.tokens.Seal(res.Position)})
}

type loginRequest struct {
	Email    string `json:"email" required:"true"`
	Password string `json:"password" required:"true"`
	// DeviceToken is what an earlier login from this device returned; it
	// exempts the login from delays others' failed logins caused. It is an
	// addition to the first design's {email, password}: without it, anyone
	// guessing could keep the owner waiting for as long as they kept
	// guessing. Clients that ignore it work as before.
	DeviceToken string `json:"device_token"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Accounts.Login(r.Context(), commands.Login{Email: req.Email, Password: req.Password,
		DeviceToken: req.DeviceToken, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reply := map[string]any{
		"token": res.Token, "token_type": "Bearer", "expires_at": res.ExpiresAt.UTC(),
		"account_id": res.AccountID, "position": s.tokens.Seal(res.Position),
	}
	if res.DeviceToken != "" {
		reply["device_token"] = res.DeviceToken
	}
	writeJSON(w, http.StatusCreated, reply)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	token, _ := requestToken(r) // requireSession has accepted it
	res, err := s.cfg.Accounts.Logout(r.Context(), commands.Logout{Token: token, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "logged_out", "position": s.tokens.Seal(res.Position)})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	if s.cfg.Profiles == nil {
		s.writeError(w, r, &apperr.Error{Code: apperr.Unavailable, Message: "profiles are not served by this instance"})
		return
	}
	if err := s.consistentWith(r, "accounts"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("consistent_with") == "" {
		s.awaitLogin(r.Context(), sess)
	}
	p, err := s.cfg.Profiles.Profile(r.Context(), sess.AccountID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

type newsletterRequest struct {
	Subscribed bool `json:"subscribed" required:"true"`
}

func (s *Server) handleNewsletter(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	var req newsletterRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Accounts.SetNewsletter(r.Context(), commands.SetNewsletter{AccountID: sess.AccountID, Subscribed: req.Subscribed, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscribed": req.Subscribed, "position": s.tokens.Seal(res.Position)})
}

type resetConfirmRequest struct {
	Email       string `json:"email" required:"true"`
	Code        string `json:"code" required:"true"`
	NewPassword string `json:"new_password" required:"true"`
}

func (s *Server) handleResetConfirm(w http.ResponseWriter, r *http.Request) {
	var req resetConfirmRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := passwordTooLong("new_password", req.NewPassword); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Accounts.ConfirmPasswordReset(r.Context(), commands.ConfirmPasswordReset{
		Email: req.Email, Code: req.Code, NewPassword: req.NewPassword, Meta: requestMeta(r)})
	if err != nil {
		// The password rule's refusal names this request's field.
		s.writeError(w, r, apperr.WithDetail(err, "field", "new_password"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "password_updated", "position": s.tokens.Seal(res.Position)})
}

// sessionHandler is a handler that needs a logged-in account.
type sessionHandler func(w http.ResponseWriter, r *http.Request, sess commands.Session)

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// requireSession resolves the bearer token (or the page's session cookie
// with its CSRF proof) to a session, or answers 401 (403 for a cookie
// without the proof).
func (s *Server) requireSession(next sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := requestToken(r)
		if err != nil {
			s.writeError(w, r, errCSRF)
			return
		}
		sess, err := s.cfg.Accounts.Authenticate(r.Context(), token)
		if errors.Is(err, commands.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="multimedia"`)
			s.writeError(w, r, &apperr.Error{Code: apperr.Unauthenticated, Message: "log in first: send Authorization: Bearer <token>"})
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		meta := requestMeta(r)
		meta.Actor = sess.AccountID
		ctx := context.WithValue(context.WithValue(r.Context(), metaKey, meta), sessionKey, sess)
		next(w, r.WithContext(ctx), sess)
	})
}

// awaitLogin gives the accounts read model up to ConsistencyTimeout to
// show the session's own login, so that a profile read right after logging
// in is not a 404. It is best effort: past the timeout (projections far
// behind or stopped) the profile is served as the read model has it. Each
// session waits once (per instance): during a stall, such as a
// transaction held open in the database, later reads answer at once with
// what the read model has instead of waiting again every time.
func (s *Server) awaitLogin(ctx context.Context, sess commands.Session) {
	if s.cfg.Consistency == nil || sess.LoginPosition.IsZero() || !s.awaited.first(sess.ID) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConsistencyTimeout)
	defer cancel()
	if err := s.cfg.Consistency.WaitFor(ctx, sess.LoginPosition, "accounts"); err != nil && ctx.Err() == nil {
		s.log.DebugContext(ctx, "profile read before the login was projected", "error", err)
	}
}

// consistentWith waits, when the query asks for it, until the read models
// have applied the position sealed in the consistency token; 400
// invalid_position for a token this service did not issue, 503 on timeout
// (not_consistent_yet) or when a read model is stopped at a dead-lettered
// event (projection_stopped). Replies never name a raw position: the
// operator's detail goes to the log.
func (s *Server) consistentWith(r *http.Request, readModels ...string) error {
	raw := r.URL.Query().Get("consistent_with")
	if raw == "" {
		return nil
	}
	pos, err := s.tokens.Open(raw)
	if err != nil {
		return badRequest(apperr.InvalidPosition, "parameter \"consistent_with\": "+err.Error(), map[string]any{"parameter": "consistent_with"})
	}
	if s.cfg.Consistency == nil {
		return &apperr.Error{Code: apperr.Unavailable, Message: "read models are not available on this instance"}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ConsistencyTimeout)
	defer cancel()
	err = s.cfg.Consistency.WaitFor(ctx, pos, readModels...)
	if errors.Is(err, projections.ErrStopped) {
		// Waiting longer will not help: an operator has to act. The log
		// names the stopped projection and where it is.
		s.log.WarnContext(r.Context(), "consistent_with on a stopped read model", "position", pos.String(), "read_models", readModels, "error", err)
		return &apperr.Error{Code: apperr.ProjectionStopped,
			Message: "the read model (" + strings.Join(readModels, ", ") + ") is stopped at an event it cannot apply and will not reach this write until an operator runs `multimedia projections skip` or `retry` on it",
			Details: map[string]any{"read_models": readModels}}
	}
	if err != nil {
		return &apperr.Error{Code: apperr.NotConsistentYet,
			Message:    "the read model (" + strings.Join(readModels, ", ") + ") has not reached this write in time; retry shortly",
			Details:    map[string]any{"read_models": readModels},
			RetryAfter: time.Second}
	}
	return nil
}

// passwordTooLong refuses a password field over account.MaxPasswordBytes
// before anything hashes it, naming the field; nil when it fits.
func passwordTooLong(field, value string) error {
	if len(value) <= account.MaxPasswordBytes {
		return nil
	}
	return badRequest(apperr.PasswordTooLong, fmt.Sprintf("field %q is over %d bytes", field, account.MaxPasswordBytes), map[string]any{"field": field})
}
