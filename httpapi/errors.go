package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/multimedia-portal/multimedia/apperr"
)

// statusOf is the one table from an error code to its HTTP status. Every
// error the API answers with is an apperr.Error (or becomes one through
// apperr.From, which holds the one table of domain errors); its code picks
// the row. A code without a row answers 500 and is logged.
var statusOf = map[apperr.Code]int{
	apperr.Internal:          http.StatusInternalServerError,
	apperr.Unavailable:       http.StatusServiceUnavailable,
	apperr.Busy:              http.StatusServiceUnavailable,
	apperr.NotConsistentYet:  http.StatusServiceUnavailable,
	apperr.ProjectionStopped: http.StatusServiceUnavailable,

	apperr.InvalidArgument:      http.StatusBadRequest,
	apperr.InvalidParameter:     http.StatusBadRequest,
	apperr.InvalidPosition:      http.StatusBadRequest,
	apperr.InvalidCursor:        http.StatusBadRequest,
	apperr.InvalidLimit:         http.StatusBadRequest,
	apperr.InvalidDate:          http.StatusBadRequest,
	apperr.InvalidInterval:      http.StatusBadRequest,
	apperr.InvertedRange:        http.StatusBadRequest,
	apperr.RangeTooLong:         http.StatusBadRequest,
	apperr.InvalidVideoID:       http.StatusBadRequest,
	apperr.UnknownVideo:         http.StatusBadRequest,
	apperr.UnexpectedParameter:  http.StatusBadRequest,
	apperr.InvalidTag:           http.StatusBadRequest,
	apperr.InvalidJSON:          http.StatusBadRequest,
	apperr.InvalidUTF8:          http.StatusBadRequest,
	apperr.UnreadableBody:       http.StatusBadRequest,
	apperr.BodyTooLarge:         http.StatusBadRequest,
	apperr.WrongType:            http.StatusBadRequest,
	apperr.UnknownField:         http.StatusBadRequest,
	apperr.MissingField:         http.StatusBadRequest,
	apperr.PasswordTooLong:      http.StatusBadRequest,
	apperr.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	apperr.MethodNotAllowed:     http.StatusMethodNotAllowed,

	apperr.InvalidEmail:       http.StatusBadRequest,
	apperr.WeakPassword:       http.StatusUnprocessableEntity,
	apperr.InvalidCode:        http.StatusBadRequest,
	apperr.TooManyAttempts:    http.StatusTooManyRequests,
	apperr.InvalidCredentials: http.StatusUnauthorized,
	apperr.LoginDelayed:       http.StatusTooManyRequests,
	apperr.AccountNotVerified: http.StatusForbidden,
	apperr.WrongPassword:      http.StatusForbidden,
	apperr.AccountErased:      http.StatusUnauthorized,

	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.CSRFFailed:      http.StatusForbidden,
	apperr.EditingDisabled: http.StatusForbidden,
	apperr.AuditDisabled:   http.StatusForbidden,
	apperr.StatsDisabled:   http.StatusForbidden,
	apperr.NotAnAnalyst:    http.StatusForbidden,
	apperr.RateLimited:     http.StatusTooManyRequests,

	apperr.NotFound:         http.StatusNotFound,
	apperr.AccountNotFound:  http.StatusNotFound,
	apperr.VideoNotFound:    http.StatusNotFound,
	apperr.VideoWithdrawn:   http.StatusNotFound,
	apperr.ArticleNotFound:  http.StatusNotFound,
	apperr.ArticleWithdrawn: http.StatusNotFound,

	apperr.InvalidVideo:     http.StatusBadRequest,
	apperr.InvalidArticle:   http.StatusBadRequest,
	apperr.UnknownFormat:    http.StatusBadRequest,
	apperr.AlreadyPublished: http.StatusConflict,

	apperr.Conflict: http.StatusConflict,
}

// badRequest is an error about the request itself (a field, a parameter).
func badRequest(code apperr.Code, message string, details map[string]any) *apperr.Error {
	return &apperr.Error{Code: code, Message: message, Details: details}
}

type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// reply is what a client is told about err: its status, code, message,
// details and wait. A 5xx that was not built for the client (apperr.Public)
// gets a generic message: a store's error names hosts, databases and
// users, and a bug's is no business of the client's.
func reply(err error) (int, apperr.Error) {
	e := apperr.From(err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	out := apperr.Error{Code: e.Code, Message: e.Message, Details: e.Details, RetryAfter: e.RetryAfter}
	if status >= 500 && !apperr.Public(err) {
		out.Message, out.Details = internalMessage, nil
		if e.Code == apperr.Unavailable {
			out.Message = unavailableMessage
		}
	}
	return status, out
}

// writeError answers with the API's error shape, {"error": {"code",
// "message", "details"}}; a 5xx is logged with the whole error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := reply(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", string(e.Code), "error", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, status, errorBody{Error: errorPayload{Code: string(e.Code), Message: e.Message, Details: e.Details}})
}

// unavailableMessage is all a client learns when a store is down: the
// driver's error names hosts, databases and users, so it goes to the log.
const unavailableMessage = "the database or event store is temporarily unavailable; try again shortly"

// internalMessage is all a client learns of an unexpected failure.
const internalMessage = "internal error"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "error", err)
	}
}
