package video

import "time"

// Event is a fact recorded in a video stream. Its type name is explicit and
// versioned so that stored events stay readable when Go names change.
type Event interface {
	// EventType returns the stable, versioned type name stored with the event.
	EventType() string
}

// Stable event type names; the read side relies on them. A new shape gets a
// new version suffix, never a changed meaning.
const (
	VideoPublishedType = "VideoPublished.v1"
	VideoUpdatedType   = "VideoUpdated.v1"
	VideoWithdrawnType = "VideoWithdrawn.v1"
)

// StreamID is the event stream of one video: "video-<id>".
func StreamID(videoID string) string { return "video-" + videoID }

// Format is one downloadable rendition of a video, such as "mp4-1080p".
type Format struct {
	Name      string `json:"format"`
	SizeBytes int64  `json:"size_bytes"`
}

// VideoPublished starts a video stream: the video is in the catalogue.
type VideoPublished struct {
	VideoID         string    `json:"video_id"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	DurationSeconds int       `json:"duration_seconds"`
	Formats         []Format  `json:"formats"`
	PublishedAt     time.Time `json:"published_at"`
}

// VideoUpdated records an editor's change. Only the fields that changed are
// present; Formats, when present, replaces the whole list.
type VideoUpdated struct {
	VideoID         string    `json:"video_id"`
	Title           *string   `json:"title,omitempty"`
	Description     *string   `json:"description,omitempty"`
	DurationSeconds *int      `json:"duration_seconds,omitempty"`
	Formats         []Format  `json:"formats,omitempty"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// VideoWithdrawn takes a video out of the catalogue; it can no longer be
// downloaded or changed.
type VideoWithdrawn struct {
	VideoID     string    `json:"video_id"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

// EventType implements Event.
func (VideoPublished) EventType() string { return VideoPublishedType }

// EventType implements Event.
func (VideoUpdated) EventType() string { return VideoUpdatedType }

// EventType implements Event.
func (VideoWithdrawn) EventType() string { return VideoWithdrawnType }
