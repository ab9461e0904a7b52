package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/video"
)

type downloadRequest struct {
	Format string `json:"format" required:"true"`
}

// handleDownload records a download by the session's account and answers
// with the file's URL: 403 for an unverified account, 404 for an unknown or
// withdrawn video, 400 for a format the video does not have.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	if s.cfg.Content == nil {
		s.writeError(w, r, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "downloads are not served by this instance"})
		return
	}
	var req downloadRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	videoID := strings.ToLower(mux.Vars(r)["id"])
	res, err := s.cfg.Content.Download(r.Context(), commands.DownloadVideo{
		AccountID: sess.AccountID, VideoID: videoID, Format: req.Format, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, downloadError(err, videoID))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": res.URL, "position": s.tokens.Seal(res.Position)})
}

// downloadError words the refusals of a download for the person asking.
func downloadError(err error, videoID string) error {
	var uf *video.UnknownFormatError
	switch {
	case errors.Is(err, account.ErrNotVerified):
		return &Error{Status: http.StatusForbidden, Code: "account_not_verified",
			Message: "only verified accounts can download: enter the verification code we emailed you, or ask for a new one",
			Details: map[string]any{"reason": "account_not_verified"}}
	case errors.Is(err, video.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "video_not_found", Message: "no video " + videoID,
			Details: map[string]any{"video_id": videoID}}
	case errors.Is(err, video.ErrWithdrawn):
		return &Error{Status: http.StatusNotFound, Code: "video_withdrawn", Message: "video " + videoID + " was withdrawn",
			Details: map[string]any{"video_id": videoID}}
	case errors.As(err, &uf):
		return badRequest("unknown_format", "field \"format\": this video has no format "+quote(uf.Format)+"; available: "+strings.Join(uf.Available, ", "),
			map[string]any{"field": "format", "available": uf.Available})
	}
	return err
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}
