package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// ByEmail is the {id} of the audit paths that names the account by its
// address instead: /api/audit/accounts/by-email/events?email=...
const ByEmail = "by-email"

// Audit paging bounds.
const (
	defaultAuditLimit = 100
)

// auditRoutes registers the auditors' endpoints; every one needs
// AUDITOR_TOKEN.
func (s *Server) auditRoutes(api *mux.Router) {
	api.Handle("/audit/accounts/{id}/events", s.requireAuditor(s.handleAuditEvents)).Methods(http.MethodGet)
	api.Handle("/audit/accounts/{id}/state", s.requireAuditor(s.handleAuditState)).Methods(http.MethodGet)
	api.Handle("/audit/accounts/{id}/verify", s.requireAuditor(s.handleAuditVerify)).Methods(http.MethodGet)
}

// requireAuditor lets through requests bearing AUDITOR_TOKEN: 403 when no
// token is configured (auditing is off), 401 for a missing or wrong one.
// The comparison is of SHA-256 digests in constant time, so neither the
// token's bytes nor its length leak through timing.
func (s *Server) requireAuditor(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AuditorToken == "" {
			s.writeError(w, r, &apperr.Error{Code: apperr.AuditDisabled,
				Message: "auditing is disabled: the server has no AUDITOR_TOKEN"})
			return
		}
		got := sha256.Sum256([]byte(bearer(r)))
		want := sha256.Sum256([]byte(s.cfg.AuditorToken))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="multimedia-audit"`)
			s.writeError(w, r, &apperr.Error{Code: apperr.Unauthenticated,
				Message: "send the auditor token: Authorization: Bearer <AUDITOR_TOKEN>"})
			return
		}
		if s.cfg.Audit == nil {
			s.writeError(w, r, &apperr.Error{Code: apperr.Unavailable, Message: "the audit service is not configured"})
			return
		}
		next(w, r)
	})
}

// auditAccountID resolves {id}: a UUID, or "by-email" with ?email=.
func (s *Server) auditAccountID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	q := r.URL.Query()
	if id == ByEmail {
		email := q.Get("email")
		if email == "" {
			return "", badRequest(apperr.InvalidParameter, `parameter "email" is required with /accounts/by-email/`, map[string]any{"parameter": "email"})
		}
		found, err := s.cfg.Audit.AccountIDByEmail(r.Context(), email)
		if errors.Is(err, audit.ErrInvalidArgument) {
			return "", badRequest(apperr.InvalidParameter, `parameter "email": `+strings.TrimPrefix(err.Error(), audit.ErrInvalidArgument.Error()+": "), map[string]any{"parameter": "email"})
		}
		return found, err
	}
	if q.Has("email") {
		return "", badRequest(apperr.InvalidParameter, `parameter "email" goes with /accounts/by-email/, not with an account id`, map[string]any{"parameter": "email"})
	}
	if !isUUID(id) {
		return "", badRequest(apperr.InvalidParameter, fmt.Sprintf("path parameter \"id\": %q is neither an account UUID nor %q", truncateParam(id), ByEmail), map[string]any{"parameter": "id"})
	}
	return strings.ToLower(id), nil
}

// isUUID accepts the canonical 36-character form only.
func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

func truncateParam(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// auditEventsReply is GET .../events: events and next, plus the account
// (httpapi/openapi/20-audit.yaml).
type auditEventsReply struct {
	AccountID string               `json:"account_id"`
	Stream    string               `json:"stream"`
	Events    []audit.HistoryEvent `json:"events"`
	// Next is the after_version of the next page; null on the last.
	Next *uint64 `json:"next"`
}

func (s *Server) handleAuditEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultAuditLimit
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > audit.MaxPageSize {
			s.writeError(w, r, badRequest(apperr.InvalidParameter, fmt.Sprintf("parameter \"limit\": %q is not a whole number in 1..%d", truncateParam(raw), audit.MaxPageSize), map[string]any{"parameter": "limit"}))
			return
		}
		limit = n
	}
	after := int64(-1)
	if raw := q.Get("after_version"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > 1<<53 {
			s.writeError(w, r, badRequest(apperr.InvalidParameter, fmt.Sprintf("parameter \"after_version\": %q is not a version (a whole number ≥ 0)", truncateParam(raw)), map[string]any{"parameter": "after_version"}))
			return
		}
		after = n
	}
	id, err := s.auditAccountID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.cfg.Audit.History(r.Context(), id, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditEventsReply{AccountID: page.AccountID, Stream: page.Stream, Events: page.Events, Next: page.Next})
}

func (s *Server) handleAuditState(w http.ResponseWriter, r *http.Request) {
	asOf := s.now()
	if raw := r.URL.Query().Get("as_of"); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			s.writeError(w, r, badRequest(apperr.InvalidParameter, fmt.Sprintf("parameter \"as_of\": %q is not an RFC 3339 time like 2026-01-31T12:00:00Z", truncateParam(raw)), map[string]any{"parameter": "as_of"}))
			return
		}
		asOf = t
	}
	id, err := s.auditAccountID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.cfg.Audit.StateAsOf(r.Context(), id, asOf)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// auditVerifyReply is GET .../verify.
type auditVerifyReply struct {
	AccountID string `json:"account_id"`
	Stream    string `json:"stream"`
	// Intact is false when a link is broken; FirstBreak names the event.
	Intact     bool                `json:"intact"`
	Events     int64               `json:"events"`
	Head       eventstore.Position `json:"head"`
	FirstBreak *audit.Break        `json:"first_break"`
}

func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request) {
	id, err := s.auditAccountID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.cfg.Audit.VerifyAccount(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reply := auditVerifyReply{AccountID: id, Stream: account.StreamID(id), Intact: rep.OK(), Events: rep.Events, Head: rep.Head}
	if b, ok := rep.First(); ok {
		reply.FirstBreak = &b
		s.log.WarnContext(r.Context(), "audit chain broken", "stream", b.Stream, "version", b.Version, "position", b.Position.String(), "event_id", b.EventID, "reason", b.Reason)
	}
	writeJSON(w, http.StatusOK, reply)
}
