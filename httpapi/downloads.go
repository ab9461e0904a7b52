package httpapi

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
)

type downloadRequest struct {
	Format string `json:"format" required:"true"`
}

// handleDownload records a download by the session's account and answers
// with the file's URL: 403 for an unverified account, 404 for an unknown or
// withdrawn video, 400 for a format the video does not have.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, sess commands.Session) {
	if s.cfg.Content == nil {
		s.writeError(w, r, &apperr.Error{Code: apperr.Unavailable, Message: "downloads are not served by this instance"})
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
		s.writeError(w, r, apperr.WithDetail(err, "video_id", videoID))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": res.URL, "position": s.tokens.Seal(res.Position)})
}
