package content

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/projections"
)

// Errors callers branch on with errors.Is (besides projections.ErrNotFound).
var (
	// ErrInvalidCursor: a paging cursor that this package did not issue.
	ErrInvalidCursor = apperr.New(apperr.InvalidCursor, `parameter "cursor" is not a cursor this API returned; start again without it`).
		WithDetails(map[string]any{"parameter": "cursor"})
)

// Querier is what Reader reads through: a pool, a connection or a tx.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Reader answers the queries of the articles, videos and download_stats
// read models. It is safe for concurrent use.
type Reader struct {
	db    Querier
	cache *videoCache // nil: Video always reads the database
}

// NewReader returns a Reader on db (usually the pool).
func NewReader(db Querier) *Reader { return &Reader{db: db} }

// WithVideoCache returns a Reader whose Video answers from memory for up to
// ttl after reading the database: GET /api/videos/{id} is the hottest
// public read, and a count that is ttl old is as good as one read ttl
// earlier. VideoFresh bypasses the cache (for ?consistent_with=).
func (r *Reader) WithVideoCache(ttl time.Duration) *Reader {
	return &Reader{db: r.db, cache: newVideoCache(ttl)}
}

// Article is one published article.
type Article struct {
	ArticleID   string     `json:"article_id"`
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Summary     string     `json:"summary"`
	Body        string     `json:"body,omitempty"`
	Tags        []string   `json:"tags"`
	PublishedAt time.Time  `json:"published_at"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// ListQuery selects a page of a list, newest first.
type ListQuery struct {
	// Cursor is the Next of the previous page, or "" for the first.
	Cursor string
	// Limit is the page size; the caller validates it.
	Limit int
	// Tag keeps only articles with this tag (articles only).
	Tag string
}

// cursor encodes the keyset position (published_at, id) of a page's last row.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "," + id))
}

func decodeCursor(c string) (time.Time, uuid.UUID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, uuid.Nil, ErrInvalidCursor // not base64url
	}
	ts, idText, ok := strings.Cut(string(raw), ",")
	micros, err1 := strconv.ParseInt(ts, 10, 64)
	id, err2 := uuid.Parse(idText)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, uuid.Nil, ErrInvalidCursor // not a cursor of this list
	}
	return time.UnixMicro(micros).UTC(), id, nil
}

// keyset turns a cursor into the bounds of the next page: rows strictly
// after (t, id) in the order published_at DESC, id DESC. With no cursor the
// bound is past every row.
func keyset(cursor string) (time.Time, uuid.UUID, error) {
	if cursor == "" {
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), uuid.Max, nil
	}
	return decodeCursor(cursor)
}

// Articles returns a page of published articles, newest first, without
// their bodies.
func (r *Reader) Articles(ctx context.Context, q ListQuery) (Page[Article], error) {
	t, id, err := keyset(q.Cursor)
	if err != nil {
		return Page[Article]{}, err
	}
	rows, err := r.db.Query(ctx, `SELECT id::text, slug, title, summary, tags, published_at, updated_at FROM rm_articles
WHERE withdrawn_at IS NULL AND (published_at, id) < ($1, $2) AND ($3 = '' OR tags @> ARRAY[$3::text])
ORDER BY published_at DESC, id DESC LIMIT $4`, t, id, q.Tag, q.Limit+1)
	if err != nil {
		return Page[Article]{}, queryError("list articles", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Article, error) {
		var a Article
		err := row.Scan(&a.ArticleID, &a.Slug, &a.Title, &a.Summary, &a.Tags, &a.PublishedAt, &a.UpdatedAt)
		return a, err
	})
	if err != nil {
		return Page[Article]{}, queryError("list articles", err)
	}
	page := Page[Article]{Items: items}
	if len(items) > q.Limit {
		page.Items = items[:q.Limit]
		last := page.Items[q.Limit-1]
		page.Next = encodeCursor(last.PublishedAt, last.ArticleID)
	}
	return page, nil
}

// Article returns the published article with this slug, or
// projections.ErrNotFound (also once it is withdrawn).
func (r *Reader) Article(ctx context.Context, slug string) (Article, error) {
	var a Article
	err := r.db.QueryRow(ctx, `SELECT id::text, slug, title, summary, body, tags, published_at, updated_at FROM rm_articles
WHERE slug = $1 AND withdrawn_at IS NULL`, slug).
		Scan(&a.ArticleID, &a.Slug, &a.Title, &a.Summary, &a.Body, &a.Tags, &a.PublishedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Article{}, apperr.Wrap(apperr.NotFound, projections.ErrNotFound, fmt.Sprintf("article %q does not exist or is withdrawn", slug))
	}
	if err != nil {
		return Article{}, queryError(fmt.Sprintf("article %q", slug), err)
	}
	return a, nil
}

// VideoFormat is one format of a video with its download count.
type VideoFormat struct {
	Format    string `json:"format"`
	SizeBytes int64  `json:"size_bytes"`
	Downloads int64  `json:"downloads"`
}

// Video is one video of the catalogue with its download counts.
type Video struct {
	VideoID         string        `json:"video_id"`
	Title           string        `json:"title"`
	Description     string        `json:"description"`
	DurationSeconds int           `json:"duration_seconds"`
	Formats         []VideoFormat `json:"formats"`
	Downloads       int64         `json:"downloads"`
	PublishedAt     time.Time     `json:"published_at"`
	UpdatedAt       *time.Time    `json:"updated_at,omitempty"`
}

// videoSelect reads a video and, in the same statement, its counts per
// format (a primary-key range scan of rm_video_downloads).
const videoSelect = `SELECT v.id::text, v.title, v.description, v.duration_seconds, v.formats, v.published_at, v.updated_at,
  coalesce((SELECT jsonb_object_agg(d.format, d.downloads) FROM rm_video_downloads d WHERE d.video_id = v.id), '{}')
FROM rm_videos v `

func scanVideo(row pgx.Row) (Video, error) {
	var (
		v       Video
		formats []Format
		counts  map[string]int64
	)
	if err := row.Scan(&v.VideoID, &v.Title, &v.Description, &v.DurationSeconds, &formats, &v.PublishedAt, &v.UpdatedAt, &counts); err != nil {
		return Video{}, err
	}
	v.Formats = make([]VideoFormat, 0, len(formats))
	for _, f := range formats {
		v.Formats = append(v.Formats, VideoFormat{Format: f.Format, SizeBytes: f.SizeBytes, Downloads: counts[f.Format]})
	}
	// Downloads of a format since removed from the video still count.
	for _, n := range counts {
		v.Downloads += n
	}
	return v, nil
}

// Video returns a published video, or projections.ErrNotFound (also for
// an id that is not a UUID, and once the video is withdrawn). With
// WithVideoCache it may be up to the cache's ttl old.
func (r *Reader) Video(ctx context.Context, videoID string) (Video, error) {
	if r.cache == nil {
		return r.VideoFresh(ctx, videoID)
	}
	if v, ok := r.cache.get(videoID); ok {
		return v, nil
	}
	v, err := r.VideoFresh(ctx, videoID)
	if err == nil {
		r.cache.put(videoID, v)
	}
	return v, err
}

// VideoFresh is Video read from the database, never from the cache.
func (r *Reader) VideoFresh(ctx context.Context, videoID string) (Video, error) {
	id, err := uuid.Parse(videoID)
	if err != nil {
		return Video{}, apperr.Wrap(apperr.NotFound, projections.ErrNotFound, fmt.Sprintf("video %q does not exist or is withdrawn", videoID))
	}
	v, err := scanVideo(r.db.QueryRow(ctx, videoSelect+"WHERE v.id = $1 AND v.withdrawn_at IS NULL", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Video{}, apperr.Wrap(apperr.NotFound, projections.ErrNotFound, fmt.Sprintf("video %q does not exist or is withdrawn", videoID))
	}
	if err != nil {
		return Video{}, queryError(fmt.Sprintf("video %s", videoID), err)
	}
	return v, nil
}

// Videos returns a page of the catalogue, newest first.
func (r *Reader) Videos(ctx context.Context, q ListQuery) (Page[Video], error) {
	t, id, err := keyset(q.Cursor)
	if err != nil {
		return Page[Video]{}, err
	}
	rows, err := r.db.Query(ctx, videoSelect+`WHERE v.withdrawn_at IS NULL AND (v.published_at, v.id) < ($1, $2)
ORDER BY v.published_at DESC, v.id DESC LIMIT $3`, t, id, q.Limit+1)
	if err != nil {
		return Page[Video]{}, queryError("list videos", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Video, error) { return scanVideo(row) })
	if err != nil {
		return Page[Video]{}, queryError("list videos", err)
	}
	page := Page[Video]{Items: items}
	if len(items) > q.Limit {
		page.Items = items[:q.Limit]
		last := page.Items[q.Limit-1]
		page.Next = encodeCursor(last.PublishedAt, last.VideoID)
	}
	return page, nil
}

// VideoKnown reports whether a video was ever published, withdrawn or not:
// its statistics stay queryable.
func (r *Reader) VideoKnown(ctx context.Context, videoID string) (bool, error) {
	id, err := uuid.Parse(videoID)
	if err != nil {
		return false, nil
	}
	var ok bool
	if err := r.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM rm_videos WHERE id = $1)", id).Scan(&ok); err != nil {
		return false, queryError(fmt.Sprintf("video %s known", videoID), err)
	}
	return ok, nil
}

// FormatKnown reports whether format is, or was, downloadable: one of the
// formats of videoID (of any video when videoID is ""), or a format that
// has downloads.
func (r *Reader) FormatKnown(ctx context.Context, format, videoID string) (bool, error) {
	var video *uuid.UUID
	if videoID != "" {
		id, err := uuid.Parse(videoID)
		if err != nil {
			return false, nil
		}
		video = &id
	}
	var ok bool
	err := r.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rm_videos v, jsonb_array_elements(v.formats) f
  WHERE ($2::uuid IS NULL OR v.id = $2) AND f->>'format' = $1)
OR EXISTS (SELECT 1 FROM rm_video_downloads WHERE format = $1 AND ($2::uuid IS NULL OR video_id = $2))`, format, video).Scan(&ok)
	if err != nil {
		return false, queryError(fmt.Sprintf("format %q known", format), err)
	}
	return ok, nil
}
