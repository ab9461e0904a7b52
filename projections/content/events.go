package content

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Event types this package reads (the write side's contract).
const (
	ArticlePublishedType = "ArticlePublished.v1"
	ArticleUpdatedType   = "ArticleUpdated.v1"
	ArticleWithdrawnType = "ArticleWithdrawn.v1"
	VideoPublishedType   = "VideoPublished.v1"
	VideoUpdatedType     = "VideoUpdated.v1"
	VideoWithdrawnType   = "VideoWithdrawn.v1"
	VideoDownloadedType  = "VideoDownloaded.v1"
)

// Format is one file of a video: its name (such as "mp4-1080p") and size.
type Format struct {
	Format    string `json:"format"`
	SizeBytes int64  `json:"size_bytes"`
}

type articlePublished struct {
	ArticleID   uuid.UUID `json:"article_id"`
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Body        string    `json:"body"`
	Tags        []string  `json:"tags"`
	PublishedAt time.Time `json:"published_at"`
}

type articleUpdated struct {
	ArticleID uuid.UUID `json:"article_id"`
	Title     *string   `json:"title"`
	Summary   *string   `json:"summary"`
	Body      *string   `json:"body"`
	Tags      *[]string `json:"tags"`
	UpdatedAt time.Time `json:"updated_at"`
}

type articleWithdrawn struct {
	ArticleID   uuid.UUID `json:"article_id"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

type videoPublished struct {
	VideoID         uuid.UUID `json:"video_id"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	DurationSeconds int       `json:"duration_seconds"`
	Formats         []Format  `json:"formats"`
	PublishedAt     time.Time `json:"published_at"`
}

type videoUpdated struct {
	VideoID         uuid.UUID `json:"video_id"`
	Title           *string   `json:"title"`
	Description     *string   `json:"description"`
	DurationSeconds *int      `json:"duration_seconds"`
	Formats         *[]Format `json:"formats"`
	UpdatedAt       time.Time `json:"updated_at"`
}

type videoWithdrawn struct {
	VideoID     uuid.UUID `json:"video_id"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

type videoDownloaded struct {
	AccountID uuid.UUID `json:"account_id"`
	VideoID   uuid.UUID `json:"video_id"`
	Format    string    `json:"format"`
	At        time.Time `json:"at"`
}

// decode unmarshals e's data into v; the error names the event, so that a
// dead letter says what was wrong.
func decode(e eventstore.RecordedEvent, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("event %s (%s) at %s: %w", e.ID, e.Type, e.Position, err)
	}
	return nil
}

func decodeDownload(e eventstore.RecordedEvent) (videoDownloaded, error) {
	var d videoDownloaded
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return d, fmt.Errorf("event %s (%s) at %s: %w", e.ID, e.Type, e.Position, err)
	}
	switch {
	case d.AccountID == uuid.Nil || d.VideoID == uuid.Nil:
		return d, fmt.Errorf("event %s (%s) at %s: account_id or video_id is missing", e.ID, e.Type, e.Position)
	case d.Format == "" || strings.ContainsAny(d.Format, "\n"):
		return d, fmt.Errorf("event %s (%s) at %s: format %q is empty or has a line break", e.ID, e.Type, e.Position, d.Format)
	case d.At.IsZero():
		return d, fmt.Errorf("event %s (%s) at %s: at is missing", e.ID, e.Type, e.Position)
	}
	return d, nil
}
