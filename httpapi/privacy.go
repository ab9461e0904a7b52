package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/portal"
)

// handleExport is GET /api/me/export: everything held about the person
// (GDPR art. 15), as one JSON document, served as a download.
//
// At most Config.ExportSlots exports are prepared at once; over that the
// answer is 503 busy (the memory an export needs grows with the account).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	if f, ok := r.URL.Query()["format"]; ok && (len(f) != 1 || f[0] != "json") {
		s.writeError(w, r, badRequest(apperr.InvalidParameter,
			fmt.Sprintf("parameter \"format\": %q is not served; the export is JSON (format=json or no format)", truncateParam(strings.Join(f, ","))),
			map[string]any{"parameter": "format"}))
		return
	}
	select {
	case s.exports <- struct{}{}:
		defer func() { <-s.exports }()
	default:
		s.writeError(w, r, &apperr.Error{Code: apperr.Busy,
			Message: "the server is preparing too many data exports at once; retry in a moment", RetryAfter: exportRetryAfter})
		return
	}
	out := &exportWriter{w: w}
	if err := s.cfg.Accounts.ExportTo(r.Context(), sess.AccountID, out); err != nil {
		if !out.started {
			s.writeError(w, r, err)
			return
		}
		// The reply has begun: the document stays unfinished, which no JSON
		// reader takes for a whole one.
		s.log.WarnContext(r.Context(), "data export cut short", "error", err)
	}
}

// exportWriter starts the export's 200 reply, with its headers, at the
// first byte, so that an error found before it is answered as one.
type exportWriter struct {
	w       http.ResponseWriter
	started bool
}

func (e *exportWriter) Write(b []byte) (int, error) {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Disposition", `attachment; filename="my-data.json"`)
		e.w.WriteHeader(http.StatusOK)
	}
	return e.w.Write(b)
}

// exportRetryAfter is the wait a refused export is told: a large export
// takes a few seconds.
const exportRetryAfter = 5 * time.Second

type eraseRequest struct {
	Password string `json:"password" required:"true"`
}

// handleErase is DELETE /api/me {password}: erases the account (GDPR art.
// 17). A wrong password answers 403 and counts as a failed login; the
// session that asked ends with the others, and the page's cookies (the
// device cookie too) are cleared.
func (s *Server) handleErase(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	var req eraseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := passwordTooLong("password", req.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Accounts.Erase(r.Context(), commands.EraseAccount{AccountID: sess.AccountID, Password: req.Password, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if bearer(r) == "" {
		portal.ClearSession(w, s.secureCookies(r)) // the page's session went with the account
		portal.ClearDevice(w, s.secureCookies(r))  // and so did the device it knew
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "erased", "account_id": res.AccountID, "position": s.tokens.Seal(res.Position)})
}
