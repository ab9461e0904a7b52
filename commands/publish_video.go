package commands

import (
	"context"
	"time"

	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// PublishVideo is an editor's "publish this video".
type PublishVideo struct {
	// VideoID may be set to make a retried request idempotent; empty means
	// a new id.
	VideoID         string
	Title           string
	Description     string
	DurationSeconds int
	Formats         []video.Format
	Meta            Meta
}

// VideoResult is what a video command reports.
type VideoResult struct {
	VideoID string
	// Position is the global position of the last event appended; zero when
	// nothing changed.
	Position eventstore.Position
}

// PublishVideo starts a new video stream.
// Errors: *video.FieldError (video.ErrInvalid), video.ErrAlreadyPublished,
// ErrUnavailable, ErrConflict.
func (h *Content) PublishVideo(ctx context.Context, cmd PublishVideo) (VideoResult, error) {
	id, err := newID(cmd.VideoID)
	if err != nil {
		return VideoResult{}, err
	}
	if !video.ValidID(id) {
		return VideoResult{}, &video.FieldError{Field: "video_id", Reason: "invalid", Message: "must be a lowercase UUID"}
	}
	draft := video.Draft{Title: cmd.Title, Description: cmd.Description, DurationSeconds: cmd.DurationSeconds, Formats: cmd.Formats}
	pos, err := h.changeVideo(ctx, id, cmd.Meta, func(v *video.Video, now time.Time) ([]video.Event, error) {
		return v.Publish(id, draft, now)
	})
	if err != nil {
		return VideoResult{}, err
	}
	return VideoResult{VideoID: id, Position: pos}, nil
}

// UpdateVideo is an editor's change to a published video.
type UpdateVideo struct {
	VideoID string
	Changes video.Changes
	Meta    Meta
}

// UpdateVideo records the fields that changed; a change to nothing new
// appends nothing and reports a zero position.
// Errors: *video.FieldError, video.ErrNotFound, video.ErrWithdrawn,
// ErrUnavailable, ErrConflict.
func (h *Content) UpdateVideo(ctx context.Context, cmd UpdateVideo) (VideoResult, error) {
	pos, err := h.changeVideo(ctx, cmd.VideoID, cmd.Meta, func(v *video.Video, now time.Time) ([]video.Event, error) {
		return v.Update(cmd.Changes, now)
	})
	if err != nil {
		return VideoResult{}, err
	}
	return VideoResult{VideoID: cmd.VideoID, Position: pos}, nil
}

// WithdrawVideo takes a video out of the catalogue.
type WithdrawVideo struct {
	VideoID string
	Meta    Meta
}

// WithdrawVideo records the withdrawal; withdrawing twice is a no-op.
// Errors: video.ErrNotFound, ErrUnavailable, ErrConflict.
func (h *Content) WithdrawVideo(ctx context.Context, cmd WithdrawVideo) (VideoResult, error) {
	pos, err := h.changeVideo(ctx, cmd.VideoID, cmd.Meta, func(v *video.Video, now time.Time) ([]video.Event, error) {
		return v.Withdraw(now)
	})
	if err != nil {
		return VideoResult{}, err
	}
	return VideoResult{VideoID: cmd.VideoID, Position: pos}, nil
}
