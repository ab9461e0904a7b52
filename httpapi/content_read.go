package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// ContentReader is the query side of articles, videos and download
// statistics: *content.Reader on the read models. Its errors are
// apperr errors (not found, invalid cursor) that writeError answers as they are.
type ContentReader interface {
	Articles(ctx context.Context, q content.ListQuery) (content.Page[content.Article], error)
	Article(ctx context.Context, slug string) (content.Article, error)
	Videos(ctx context.Context, q content.ListQuery) (content.Page[content.Video], error)
	Video(ctx context.Context, videoID string) (content.Video, error)
	VideoFresh(ctx context.Context, videoID string) (content.Video, error)
	VideoKnown(ctx context.Context, videoID string) (bool, error)
	FormatKnown(ctx context.Context, format, videoID string) (bool, error)
	DownloadSeries(ctx context.Context, q content.SeriesQuery) (content.Series, error)
	TopVideos(ctx context.Context, from, to time.Time, limit int) ([]content.TopVideo, error)
	FormatSplit(ctx context.Context, from, to time.Time, videoID string) ([]content.FormatShare, error)
}

// Paging limits of the public lists.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// readRoutes registers the public content queries and the analysts'
// statistics on /api, and the dashboard on the root router.
func (s *Server) readRoutes(root, api *mux.Router) {
	api.HandleFunc("/articles", s.withReads(s.handleArticles)).Methods(http.MethodGet)
	api.HandleFunc("/articles/{slug}", s.withReads(s.handleArticle)).Methods(http.MethodGet)
	api.HandleFunc("/videos", s.withReads(s.handleVideos)).Methods(http.MethodGet)
	api.HandleFunc("/videos/{id}", s.withReads(s.handleVideo)).Methods(http.MethodGet)
	api.Handle("/stats/downloads", s.requireAnalyst(s.withReads(s.handleDownloadStats))).Methods(http.MethodGet)
	api.Handle("/stats/videos/top", s.requireAnalyst(s.withReads(s.handleTopVideos))).Methods(http.MethodGet)
	api.Handle("/stats/formats", s.requireAnalyst(s.withReads(s.handleFormatSplit))).Methods(http.MethodGet)
	s.dashboardRoutes(root)
}

// withReads answers 503 on an instance without the content read models.
func (s *Server) withReads(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.ContentReads == nil {
			s.writeError(w, r, &apperr.Error{Code: apperr.Unavailable, Message: "content queries are not served by this instance"})
			return
		}
		next(w, r)
	}
}

// pageQuery reads ?cursor= and ?limit= (1..100, default 20).
func pageQuery(r *http.Request) (content.ListQuery, error) {
	q := content.ListQuery{Cursor: r.URL.Query().Get("cursor"), Limit: defaultPageSize}
	if len(q.Cursor) > 200 {
		return q, badRequest(apperr.InvalidCursor, "parameter \"cursor\" is not a cursor this API returned", map[string]any{"parameter": "cursor"})
	}
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			return q, badRequest(apperr.InvalidLimit, "parameter \"limit\" must be a whole number from 1 to "+strconv.Itoa(maxPageSize)+", got "+strconv.Quote(raw),
				map[string]any{"parameter": "limit", "min": 1, "max": maxPageSize})
		}
		q.Limit = n
	}
	return q, nil
}

type articlesReply struct {
	Articles []content.Article `json:"articles"`
	Next     string            `json:"next"`
}

func (s *Server) handleArticles(w http.ResponseWriter, r *http.Request) {
	q, err := pageQuery(r)
	if err == nil {
		q.Tag = r.URL.Query().Get("tag")
		if utf8.RuneCountInString(q.Tag) > 64 {
			err = badRequest(apperr.InvalidTag, "parameter \"tag\" is over 64 characters", map[string]any{"parameter": "tag"})
		}
	}
	if err == nil {
		err = s.consistentWith(r, content.ArticlesName)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.cfg.ContentReads.Articles(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, articlesReply{Articles: page.Items, Next: page.Next})
}

func (s *Server) handleArticle(w http.ResponseWriter, r *http.Request) {
	slug := mux.Vars(r)["slug"]
	if err := s.consistentWith(r, content.ArticlesName); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.cfg.ContentReads.Article(r.Context(), slug)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type videosReply struct {
	Videos []content.Video `json:"videos"`
	Next   string          `json:"next"`
}

func (s *Server) handleVideos(w http.ResponseWriter, r *http.Request) {
	q, err := pageQuery(r)
	if err == nil {
		err = s.consistentWith(r, content.VideosName)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.cfg.ContentReads.Videos(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, videosReply{Videos: page.Items, Next: page.Next})
}

func (s *Server) handleVideo(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := s.consistentWith(r, content.VideosName); err != nil {
		s.writeError(w, r, err)
		return
	}
	read := s.cfg.ContentReads.Video // may be a few hundred ms old
	if r.URL.Query().Get("consistent_with") != "" {
		read = s.cfg.ContentReads.VideoFresh // must show the position waited for
	}
	v, err := read(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
