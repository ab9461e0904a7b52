package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// Error is an HTTP-level failure with its status and stable code. Handlers
// return it for request problems; domain and command errors are mapped by
// errorTable instead.
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	// RetryAfter, when set, becomes the Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

func badRequest(code, message string, details map[string]any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: message, Details: details}
}

// errorTable maps the errors of the layers below to a status and a code, in
// one place. The first entry that matches with errors.Is wins.
var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{account.ErrWeakPassword, http.StatusUnprocessableEntity, "weak_password"},
	{account.ErrInvalidEmail, http.StatusBadRequest, "invalid_email"},
	{account.ErrTooManyAttempts, http.StatusTooManyRequests, "too_many_attempts"},
	{account.ErrInvalidCode, http.StatusBadRequest, "invalid_code"},
	{account.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials"},
	{account.ErrLoginDelayed, http.StatusTooManyRequests, "login_delayed"},
	{account.ErrNotVerified, http.StatusForbidden, "account_not_verified"},
	{commands.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{commands.ErrConflict, http.StatusConflict, "conflict"},
	{commands.ErrNotFound, http.StatusNotFound, "not_found"},
	{account.ErrInvalidArgument, http.StatusBadRequest, "invalid_argument"},
	{audit.ErrNotFound, http.StatusNotFound, "account_not_found"},
	{audit.ErrInvalidArgument, http.StatusBadRequest, "invalid_argument"},
	{video.ErrNotFound, http.StatusNotFound, "video_not_found"},
	{video.ErrWithdrawn, http.StatusNotFound, "video_withdrawn"},
	{video.ErrUnknownFormat, http.StatusBadRequest, "unknown_format"},
	{video.ErrInvalid, http.StatusBadRequest, "invalid_video"},
	{video.ErrAlreadyPublished, http.StatusConflict, "already_published"},
	{article.ErrNotFound, http.StatusNotFound, "article_not_found"},
	{article.ErrWithdrawn, http.StatusNotFound, "article_withdrawn"},
	{article.ErrInvalid, http.StatusBadRequest, "invalid_article"},
	{article.ErrAlreadyPublished, http.StatusConflict, "already_published"},
}

type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// writeError answers with the API's error shape, {"error": {"code",
// "message", "details"}}. An unavailable store
// becomes 503 and unknown errors 500, both with a generic message; the real
// error goes to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *Error
	if !errors.As(err, &he) {
		he = s.mapError(err)
	}
	if he.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if he.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((he.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, he.Status, errorBody{Error: errorPayload{Code: he.Code, Message: he.Message, Details: he.Details}})
}

func (s *Server) mapError(err error) *Error {
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			e := &Error{Status: row.status, Code: row.code, Message: err.Error()}
			var delayed *account.RetryAfterError
			if errors.As(err, &delayed) {
				e.RetryAfter = delayed.Wait
			}
			var pe *account.PasswordPolicyError
			if errors.As(err, &pe) {
				e.Message = "the password does not meet the password rule"
				rules := make([]map[string]string, 0, len(pe.Violations))
				for _, v := range pe.Violations {
					rules = append(rules, map[string]string{"code": string(v.Code), "message": v.Message})
				}
				e.Details = map[string]any{"field": "password", "violations": rules}
			}
			return e
		}
	}
	if unavailable(err) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: unavailableMessage}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

// unavailableMessage is all a client learns when a store is down: the
// driver's error names hosts, databases and users, so it goes to the log.
const unavailableMessage = "the database or event store is temporarily unavailable; try again shortly"

// unavailable reports a failure of a store rather than a bug: a command's
// store (commands wrap the event store's and the session store's failures
// in commands.ErrUnavailable), or a query's event store (audit) or
// read-model database (projections/content), which carry the event store
// port's unavailable code (eventstore.ErrUnavailable).
func unavailable(err error) bool {
	return errors.Is(err, commands.ErrUnavailable) || errors.Is(err, eventstore.ErrUnavailable)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "error", err)
	}
}
