package commands

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// ContentConfig wires the content command handlers: publishing articles and
// videos, and recording downloads.
type ContentConfig struct {
	Store eventstore.Store
	// Keys keeps the accounts' data keys: a download's client IP is sealed
	// under the downloading account's.
	Keys DataKeys
	// DownloadBaseURL is where video files live; a download's URL is this
	// base, the video id, "/" and the format.
	DownloadBaseURL string
	// MaxRetries bounds the reloads after a concurrent change (default 5).
	MaxRetries int
	// MaxSlugSuffix bounds the "-N" suffixes tried for a taken slug
	// (default 1000).
	MaxSlugSuffix int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate reports every missing dependency and bad setting at once.
func (c ContentConfig) Validate() error {
	var problems []error
	if c.Store == nil {
		problems = append(problems, errors.New("content: Store is nil"))
	}
	if c.Keys == nil {
		problems = append(problems, errors.New("content: Keys is nil"))
	}
	if u, err := url.Parse(c.DownloadBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Errorf("content: DownloadBaseURL %q is not an http(s) URL", c.DownloadBaseURL))
	}
	if c.MaxRetries < 0 || c.MaxSlugSuffix < 0 {
		problems = append(problems, errors.New("content: MaxRetries and MaxSlugSuffix must not be negative"))
	}
	return errors.Join(problems...)
}

// Content holds the handlers of the editors' commands (publish, update,
// withdraw articles and videos) and of downloads.
type Content struct {
	store         eventstore.Store
	keys          DataKeys
	baseURL       string
	maxRetries    int
	maxSlugSuffix int
	now           func() time.Time
	verified      *verifiedSet
}

// NewContent validates cfg and returns the handlers.
func NewContent(cfg ContentConfig) (*Content, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.MaxSlugSuffix == 0 {
		cfg.MaxSlugSuffix = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base := cfg.DownloadBaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &Content{store: cfg.Store, keys: cfg.Keys, baseURL: base, maxRetries: cfg.MaxRetries,
		maxSlugSuffix: cfg.MaxSlugSuffix, now: cfg.Now, verified: &verifiedSet{cap: 100_000}}, nil
}

// appendOrConflict appends and sorts the outcome: nil, a wrong expected
// version (retry), or ErrUnavailable.
func (h *Content) appendOrConflict(ctx context.Context, stream string, expected eventstore.ExpectedVersion, data []eventstore.EventData) (eventstore.Position, bool, error) {
	res, err := h.store.Append(ctx, stream, expected, data...)
	switch {
	case err == nil:
		return res.Position, false, nil
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return eventstore.Position{}, true, nil
	default:
		return eventstore.Position{}, false, fmt.Errorf("append to %s: %w: %w", stream, ErrUnavailable, err)
	}
}

// repo is the generic repository over the content handlers' store.
func (h *Content) repo() repository {
	return repository{store: h.store, now: h.now, maxRetries: h.maxRetries}
}

// videos and articles tell the generic repository how to fold and write
// those aggregates.
var (
	videos = aggregate[*video.Video, video.Event]{name: "video", decode: video.Decode, encode: video.Encode,
		empty: func() *video.Video { return video.FromHistory(nil) }, apply: (*video.Video).Apply, version: (*video.Video).Version}
	articles = aggregate[*article.Article, article.Event]{name: "article", decode: article.Decode, encode: article.Encode,
		empty: func() *article.Article { return article.FromHistory(nil) }, apply: (*article.Article).Apply, version: (*article.Article).Version}
)

func (h *Content) loadVideo(ctx context.Context, videoID string) (*video.Video, error) {
	return load(ctx, h.repo(), videos, video.StreamID(videoID))
}

func (h *Content) loadArticle(ctx context.Context, articleID string) (*article.Article, error) {
	return load(ctx, h.repo(), articles, article.StreamID(articleID))
}

// changeVideo runs decide on the video through the generic update.
func (h *Content) changeVideo(ctx context.Context, videoID string, meta Meta, decide func(*video.Video, time.Time) ([]video.Event, error)) (eventstore.Position, error) {
	if !video.ValidID(videoID) {
		return eventstore.Position{}, video.ErrNotFound
	}
	return update(ctx, h.repo(), videos, video.StreamID(videoID), meta, decide, sideEffects{})
}

// changeArticle runs decide on the article through the generic update.
func (h *Content) changeArticle(ctx context.Context, articleID string, meta Meta, decide func(*article.Article, time.Time) ([]article.Event, error)) (eventstore.Position, error) {
	if !article.ValidID(articleID) {
		return eventstore.Position{}, article.ErrNotFound
	}
	return update(ctx, h.repo(), articles, article.StreamID(articleID), meta, decide, sideEffects{})
}

// newID returns id when the caller chose one (a retried request, the demo
// seed), else a fresh time-ordered UUID.
func newID(id string) (string, error) {
	if id != "" {
		return id, nil
	}
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
