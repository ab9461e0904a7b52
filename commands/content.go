package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// ContentConfig wires the content command handlers: publishing articles and
// videos, and recording downloads.
type ContentConfig struct {
	Store eventstore.Store
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
	return &Content{store: cfg.Store, baseURL: base, maxRetries: cfg.MaxRetries,
		maxSlugSuffix: cfg.MaxSlugSuffix, now: cfg.Now, verified: &verifiedSet{cap: 100_000}}, nil
}

// stamp encodes events of any domain package for the store, giving each a
// fresh id and the command's metadata.
func stamp[E any](events []E, encode func(E) (string, []byte, error), meta Meta, now time.Time) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, 0, len(events))
	for _, e := range events {
		typ, data, err := encode(e)
		if err != nil {
			return nil, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		md, err := json.Marshal(eventstore.Metadata{
			EventID: id.String(), CorrelationID: meta.CorrelationID, CausationID: meta.CausationID,
			Actor: meta.actor(), ClientIP: meta.ClientIP, OccurredAt: now.UTC(),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: md})
	}
	return out, nil
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

func (h *Content) loadVideo(ctx context.Context, videoID string) (*video.Video, error) {
	history, err := readStream(ctx, h.store, video.StreamID(videoID), video.Decode)
	if err != nil {
		return nil, err
	}
	return video.FromHistory(history), nil
}

func (h *Content) loadArticle(ctx context.Context, articleID string) (*article.Article, error) {
	history, err := readStream(ctx, h.store, article.StreamID(articleID), article.Decode)
	if err != nil {
		return nil, err
	}
	return article.FromHistory(history), nil
}

// changeVideo loads the video, lets decide choose events and appends them
// with the expected version, deciding again after a concurrent change.
func (h *Content) changeVideo(ctx context.Context, videoID string, meta Meta, decide func(*video.Video, time.Time) ([]video.Event, error)) (eventstore.Position, error) {
	if !video.ValidID(videoID) {
		return eventstore.Position{}, video.ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		v, err := h.loadVideo(ctx, videoID)
		if err != nil {
			return eventstore.Position{}, err
		}
		now := h.now()
		events, err := decide(v, now)
		if err != nil || len(events) == 0 {
			return eventstore.Position{}, err
		}
		data, err := stamp(events, video.Encode, meta, now)
		if err != nil {
			return eventstore.Position{}, err
		}
		pos, conflict, err := h.appendOrConflict(ctx, video.StreamID(videoID), expectedFor(v.Version()), data)
		if !conflict {
			return pos, err
		}
		if attempt >= h.maxRetries {
			return eventstore.Position{}, fmt.Errorf("video %s: %w", videoID, ErrConflict)
		}
	}
}

// changeArticle is changeVideo for articles.
func (h *Content) changeArticle(ctx context.Context, articleID string, meta Meta, decide func(*article.Article, time.Time) ([]article.Event, error)) (eventstore.Position, error) {
	if !article.ValidID(articleID) {
		return eventstore.Position{}, article.ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		a, err := h.loadArticle(ctx, articleID)
		if err != nil {
			return eventstore.Position{}, err
		}
		now := h.now()
		events, err := decide(a, now)
		if err != nil || len(events) == 0 {
			return eventstore.Position{}, err
		}
		data, err := stamp(events, article.Encode, meta, now)
		if err != nil {
			return eventstore.Position{}, err
		}
		pos, conflict, err := h.appendOrConflict(ctx, article.StreamID(articleID), expectedFor(a.Version()), data)
		if !conflict {
			return pos, err
		}
		if attempt >= h.maxRetries {
			return eventstore.Position{}, fmt.Errorf("article %s: %w", articleID, ErrConflict)
		}
	}
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

// accountEncode adapts account.Encode to stamp.
func accountEncode(e account.Event) (string, []byte, error) { return account.Encode(e) }
