package download

import (
	"errors"
	"fmt"
	"time"

	"github.com/multimedia-portal/multimedia/domain/internal/eventcodec"
)

// VideoDownloadedType is the stable type name of VideoDownloaded. It is the
// name downloads have always been stored under, on account streams before
// 2026-12, so the projections and stored events keep working.
const VideoDownloadedType = "VideoDownloaded.v1"

// StreamPrefix starts the name of every download stream.
const StreamPrefix = "downloads-"

// Event is a fact recorded in a download stream.
type Event interface {
	// EventType returns the stable, versioned type name stored with the event.
	EventType() string
}

// VideoDownloaded records one download of a video in one format, the source
// of the download statistics.
type VideoDownloaded struct {
	AccountID string    `json:"account_id"`
	VideoID   string    `json:"video_id"`
	Format    string    `json:"format"`
	At        time.Time `json:"at"`
}

// EventType implements Event.
func (VideoDownloaded) EventType() string { return VideoDownloadedType }

// Errors of the package; callers branch with errors.Is.
var (
	// ErrInvalidArgument: a record without its video or format.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnknownEventType: a type name this package does not know.
	ErrUnknownEventType = errors.New("unknown download event type")
)

var codec = eventcodec.New(eventcodec.Wrapping(ErrUnknownEventType),
	eventcodec.Type[VideoDownloaded](VideoDownloadedType),
)

// Decode turns a stored payload back into its event value.
func Decode(eventType string, data []byte) (Event, error) { return codec.Decode(eventType, data) }

// Encode returns the stable type name and JSON payload of an event.
func Encode(e Event) (eventType string, data []byte, err error) { return codec.Encode(e) }

// period is the month of a stream, in UTC.
const period = "2006-01"

// StreamID is the stream of the downloads accountID made in the calendar
// month (UTC) of at.
func StreamID(accountID string, at time.Time) string {
	return StreamPrefix + accountID + "-" + at.UTC().Format(period)
}

// StreamIDs lists the download streams of accountID for every month from
// the one of from to the one of to (UTC), oldest first; none when to is
// before from.
func StreamIDs(accountID string, from, to time.Time) []string {
	var out []string
	m := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	for !m.After(to.UTC()) {
		out = append(out, StreamID(accountID, m))
		m = m.AddDate(0, 1, 0)
	}
	return out
}

// Downloader is the account asking to download: *account.Account.
type Downloader interface {
	// ID is the account id.
	ID() string
	// CanDownload is nil when the account may download (it is verified).
	CanDownload() error
}

// Record records one download by d. The caller has checked that the video
// and the format exist (that is the video's business). It returns
// d.CanDownload's error when the account may not download.
func Record(d Downloader, videoID, format string, now time.Time) ([]Event, error) {
	if err := d.CanDownload(); err != nil {
		return nil, err
	}
	if videoID == "" || format == "" {
		return nil, fmt.Errorf("%w: video id and format are required", ErrInvalidArgument)
	}
	return []Event{VideoDownloaded{AccountID: d.ID(), VideoID: videoID, Format: format, At: now.UTC()}}, nil
}
