package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
)

// contentRoutes registers the editors' endpoints and downloads on the /api
// subrouter.
func (s *Server) contentRoutes(api *mux.Router) {
	api.Handle("/admin/videos", s.requireEditor(s.handlePublishVideo)).Methods(http.MethodPost)
	api.Handle("/admin/videos/{id}", s.requireEditor(s.handleUpdateVideo)).Methods(http.MethodPatch)
	api.Handle("/admin/videos/{id}", s.requireEditor(s.handleWithdrawVideo)).Methods(http.MethodDelete)
	api.Handle("/admin/articles", s.requireEditor(s.handlePublishArticle)).Methods(http.MethodPost)
	api.Handle("/admin/articles/{id}", s.requireEditor(s.handleUpdateArticle)).Methods(http.MethodPatch)
	api.Handle("/admin/articles/{id}", s.requireEditor(s.handleWithdrawArticle)).Methods(http.MethodDelete)
	api.Handle("/videos/{id}/downloads", s.requireSession(s.handleDownload)).Methods(http.MethodPost)
}

// EditorActor is the actor recorded on events written with ADMIN_TOKEN.
const EditorActor = "editor"

// requireEditor lets a request through only with Authorization: Bearer
// ADMIN_TOKEN: 403 when no token is configured (editing is switched off),
// 401 when the token is missing or wrong. Both sides are hashed before the
// constant-time compare, so neither the content nor the length leaks.
func (s *Server) requireEditor(next http.HandlerFunc) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminToken == "" {
			s.writeError(w, r, &apperr.Error{Code: apperr.EditingDisabled,
				Message: "publishing is switched off on this server: ADMIN_TOKEN is not set"})
			return
		}
		got := sha256.Sum256([]byte(bearer(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="multimedia-admin"`)
			s.writeError(w, r, &apperr.Error{Code: apperr.Unauthenticated,
				Message: "send the editor token: Authorization: Bearer <ADMIN_TOKEN>"})
			return
		}
		if s.cfg.Content == nil {
			s.writeError(w, r, &apperr.Error{Code: apperr.Unavailable, Message: "publishing is not served by this instance"})
			return
		}
		meta := requestMeta(r)
		meta.Actor = EditorActor
		next(w, r.WithContext(context.WithValue(r.Context(), metaKey, meta)))
	})
}

// formatsField decodes "formats" strictly: every element an object with
// exactly "format" (string) and "size_bytes" (integer). A problem is kept in
// err, naming the element, rather than returned: decodeJSON would turn a
// returned error into a generic "invalid JSON".
type formatsField struct {
	list []video.Format
	err  error
}

// UnmarshalJSON implements json.Unmarshaler; it never fails, see err.
func (f *formatsField) UnmarshalJSON(b []byte) error {
	f.list, f.err = decodeFormats(b)
	return nil
}

func decodeFormats(b []byte) ([]video.Format, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, badRequest(apperr.WrongType, `field "formats" must be an array of {"format", "size_bytes"} objects`, map[string]any{"field": "formats", "expected": "array"})
	}
	out := make([]video.Format, 0, len(items))
	for i, raw := range items {
		field := fmt.Sprintf("formats[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, badRequest(apperr.WrongType, fmt.Sprintf("field %q must be an object with format and size_bytes", field), map[string]any{"field": field, "expected": "object"})
		}
		var unknown []string
		for k := range obj {
			if k != "format" && k != "size_bytes" {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, badRequest(apperr.UnknownField, fmt.Sprintf("unknown field %q", field+"."+unknown[0]), map[string]any{"field": field + "." + unknown[0]})
		}
		var vf video.Format
		for _, part := range []struct {
			name string
			dst  any
			kind string
		}{{"format", &vf.Name, "string"}, {"size_bytes", &vf.SizeBytes, "integer"}} {
			v, ok := obj[part.name]
			name := field + "." + part.name
			if !ok || string(v) == "null" {
				return nil, badRequest(apperr.MissingField, fmt.Sprintf("field %q is required", name), map[string]any{"field": name})
			}
			if err := json.Unmarshal(v, part.dst); err != nil {
				return nil, badRequest(apperr.WrongType, fmt.Sprintf("field %q must be a %s", name, part.kind), map[string]any{"field": name, "expected": part.kind})
			}
		}
		out = append(out, vf)
	}
	return out, nil
}

type publishVideoRequest struct {
	Title           string       `json:"title" required:"true"`
	Description     string       `json:"description"`
	DurationSeconds int          `json:"duration_seconds" required:"true"`
	Formats         formatsField `json:"formats" required:"true"`
}

func (s *Server) handlePublishVideo(w http.ResponseWriter, r *http.Request) {
	var req publishVideoRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Formats.err != nil {
		s.writeError(w, r, req.Formats.err)
		return
	}
	res, err := s.cfg.Content.PublishVideo(r.Context(), commands.PublishVideo{
		Title: req.Title, Description: req.Description, DurationSeconds: req.DurationSeconds,
		Formats: req.Formats.list, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"video_id": res.VideoID, "position": s.tokens.Seal(res.Position)})
}

type updateVideoRequest struct {
	Title           *string       `json:"title"`
	Description     *string       `json:"description"`
	DurationSeconds *int          `json:"duration_seconds"`
	Formats         *formatsField `json:"formats"`
}

func (s *Server) handleUpdateVideo(w http.ResponseWriter, r *http.Request) {
	var req updateVideoRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ch := video.Changes{Title: req.Title, Description: req.Description, DurationSeconds: req.DurationSeconds}
	if req.Formats != nil {
		if req.Formats.err != nil {
			s.writeError(w, r, req.Formats.err)
			return
		}
		ch.Formats = &req.Formats.list
	}
	id := strings.ToLower(mux.Vars(r)["id"])
	res, err := s.cfg.Content.UpdateVideo(r.Context(), commands.UpdateVideo{VideoID: id, Changes: ch, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"video_id": res.VideoID, "changed": !res.Position.IsZero(), "position": s.tokens.Seal(res.Position)})
}

func (s *Server) handleWithdrawVideo(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(mux.Vars(r)["id"])
	res, err := s.cfg.Content.WithdrawVideo(r.Context(), commands.WithdrawVideo{VideoID: id, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"video_id": res.VideoID, "status": "withdrawn", "position": s.tokens.Seal(res.Position)})
}

type publishArticleRequest struct {
	Title   string   `json:"title" required:"true"`
	Summary string   `json:"summary"`
	Body    string   `json:"body" required:"true"`
	Tags    []string `json:"tags"`
}

func (s *Server) handlePublishArticle(w http.ResponseWriter, r *http.Request) {
	var req publishArticleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.Content.PublishArticle(r.Context(), commands.PublishArticle{
		Title: req.Title, Summary: req.Summary, Body: req.Body, Tags: req.Tags, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"article_id": res.ArticleID, "slug": res.Slug, "position": s.tokens.Seal(res.Position)})
}

type updateArticleRequest struct {
	Title   *string   `json:"title"`
	Summary *string   `json:"summary"`
	Body    *string   `json:"body"`
	Tags    *[]string `json:"tags"`
}

func (s *Server) handleUpdateArticle(w http.ResponseWriter, r *http.Request) {
	var req updateArticleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := strings.ToLower(mux.Vars(r)["id"])
	res, err := s.cfg.Content.UpdateArticle(r.Context(), commands.UpdateArticle{ArticleID: id,
		Changes: article.Changes{Title: req.Title, Summary: req.Summary, Body: req.Body, Tags: req.Tags}, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"article_id": res.ArticleID, "slug": res.Slug, "changed": !res.Position.IsZero(), "position": s.tokens.Seal(res.Position)})
}

func (s *Server) handleWithdrawArticle(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(mux.Vars(r)["id"])
	res, err := s.cfg.Content.WithdrawArticle(r.Context(), commands.WithdrawArticle{ArticleID: id, Meta: requestMeta(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"article_id": res.ArticleID, "slug": res.Slug, "status": "withdrawn", "position": s.tokens.Seal(res.Position)})
}
