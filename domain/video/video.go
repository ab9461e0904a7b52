package video

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multimedia-portal/multimedia/domain/internal/field"
)

// Limits of what an editor may publish. They keep events and pages small and
// catch typos (a negative duration, a size of zero) before they are stored.
const (
	MaxTitleRunes       = 200
	MaxDescriptionRunes = 5000
	MaxDurationSeconds  = 24 * 60 * 60
	MaxFormats          = 16
	MaxFormatNameBytes  = 32
	MaxSizeBytes        = int64(1) << 50 // 1 PiB: anything larger is a typo
)

// Draft is what an editor publishes.
type Draft struct {
	Title           string
	Description     string
	DurationSeconds int
	Formats         []Format
}

// Changes is an editor's later change; nil fields stay as they are, and
// Formats, when set, replaces the whole list.
type Changes struct {
	Title           *string
	Description     *string
	DurationSeconds *int
	Formats         *[]Format
}

// Video is the aggregate of one video stream. Its state is only ever the
// fold of its events.
type Video struct {
	id          string
	published   bool
	withdrawn   bool
	title       string
	description string
	duration    int
	formats     []Format
	publishedAt time.Time
	version     int
}

// FromHistory folds a video's events, oldest first. An empty history gives
// a video that does not exist yet, on which Publish may be called.
func FromHistory(history []Event) *Video {
	v := &Video{}
	for _, e := range history {
		v.Apply(e)
	}
	return v
}

// Apply moves the state on by one event and counts it in Version.
func (v *Video) Apply(e Event) {
	v.version++
	switch e := e.(type) {
	case VideoPublished:
		v.id, v.published = e.VideoID, true
		v.title, v.description, v.duration = e.Title, e.Description, e.DurationSeconds
		v.formats = slices.Clone(e.Formats)
		v.publishedAt = e.PublishedAt
	case VideoUpdated:
		if e.Title != nil {
			v.title = *e.Title
		}
		if e.Description != nil {
			v.description = *e.Description
		}
		if e.DurationSeconds != nil {
			v.duration = *e.DurationSeconds
		}
		if e.Formats != nil {
			v.formats = slices.Clone(e.Formats)
		}
	case VideoWithdrawn:
		v.withdrawn = true
	}
}

// Publish puts a new video in the catalogue. The draft is checked field by
// field; the first broken rule comes back as a *FieldError.
func (v *Video) Publish(videoID string, d Draft, now time.Time) ([]Event, error) {
	if v.published {
		return nil, ErrAlreadyPublished
	}
	if !ValidID(videoID) {
		return nil, fieldErr("video_id", "invalid", "must be a UUID")
	}
	d.Title = strings.TrimSpace(d.Title)
	d.Description = strings.TrimSpace(d.Description)
	if err := checkTitle(d.Title); err != nil {
		return nil, err
	}
	if err := checkDescription(d.Description); err != nil {
		return nil, err
	}
	if err := checkDuration(d.DurationSeconds); err != nil {
		return nil, err
	}
	if err := CheckFormats(d.Formats); err != nil {
		return nil, err
	}
	return []Event{VideoPublished{
		VideoID: videoID, Title: d.Title, Description: d.Description,
		DurationSeconds: d.DurationSeconds, Formats: slices.Clone(d.Formats), PublishedAt: now.UTC(),
	}}, nil
}

// Update changes a published video. Only fields that differ from the
// current state go into the event; a change to nothing new gives no event.
func (v *Video) Update(c Changes, now time.Time) ([]Event, error) {
	if err := v.live(); err != nil {
		return nil, err
	}
	if c.Title == nil && c.Description == nil && c.DurationSeconds == nil && c.Formats == nil {
		return nil, fieldErr("body", "no_changes", "name at least one of title, description, duration_seconds, formats")
	}
	e := VideoUpdated{VideoID: v.id, UpdatedAt: now.UTC()}
	changed := false
	if c.Title != nil {
		t := strings.TrimSpace(*c.Title)
		if err := checkTitle(t); err != nil {
			return nil, err
		}
		if t != v.title {
			e.Title, changed = &t, true
		}
	}
	if c.Description != nil {
		d := strings.TrimSpace(*c.Description)
		if err := checkDescription(d); err != nil {
			return nil, err
		}
		if d != v.description {
			e.Description, changed = &d, true
		}
	}
	if c.DurationSeconds != nil {
		d := *c.DurationSeconds
		if err := checkDuration(d); err != nil {
			return nil, err
		}
		if d != v.duration {
			e.DurationSeconds, changed = &d, true
		}
	}
	if c.Formats != nil {
		if err := CheckFormats(*c.Formats); err != nil {
			return nil, err
		}
		if !slices.Equal(*c.Formats, v.formats) {
			e.Formats, changed = slices.Clone(*c.Formats), true
		}
	}
	if !changed {
		return nil, nil
	}
	return []Event{e}, nil
}

// Withdraw takes the video out of the catalogue. Withdrawing it again is a
// no-op, so a retried request does no harm.
func (v *Video) Withdraw(now time.Time) ([]Event, error) {
	if !v.published {
		return nil, ErrNotFound
	}
	if v.withdrawn {
		return nil, nil
	}
	return []Event{VideoWithdrawn{VideoID: v.id, WithdrawnAt: now.UTC()}}, nil
}

// CheckDownload says whether format of this video can be downloaded:
// ErrNotFound, ErrWithdrawn or *UnknownFormatError when not.
func (v *Video) CheckDownload(format string) error {
	if err := v.live(); err != nil {
		return err
	}
	for _, f := range v.formats {
		if f.Name == format {
			return nil
		}
	}
	avail := make([]string, len(v.formats))
	for i, f := range v.formats {
		avail[i] = f.Name
	}
	return &UnknownFormatError{Format: format, Available: avail}
}

func (v *Video) live() error {
	switch {
	case !v.published:
		return ErrNotFound
	case v.withdrawn:
		return ErrWithdrawn
	}
	return nil
}

// ID returns the video id (empty before publication).
func (v *Video) ID() string { return v.id }

// Published reports whether the video was ever published.
func (v *Video) Published() bool { return v.published }

// Withdrawn reports whether the video was withdrawn.
func (v *Video) Withdrawn() bool { return v.withdrawn }

// Title returns the current title.
func (v *Video) Title() string { return v.title }

// Formats returns a copy of the current formats.
func (v *Video) Formats() []Format { return slices.Clone(v.formats) }

// Version is the number of events applied: the stream's expected version.
func (v *Video) Version() int { return v.version }

func checkTitle(t string) error { return field.Title(fieldErr, "title", t, MaxTitleRunes) }

func checkDescription(d string) error {
	return field.Text(fieldErr, "description", d, MaxDescriptionRunes)
}

func checkDuration(d int) error {
	switch {
	case d < 0:
		return fieldErr("duration_seconds", "negative", "must not be negative (got %d)", d)
	case d == 0:
		return fieldErr("duration_seconds", "zero", "must be at least 1 second")
	case d > MaxDurationSeconds:
		return fieldErr("duration_seconds", "too_long", "is over %d seconds (24 hours)", MaxDurationSeconds)
	}
	return nil
}

// CheckFormats applies the format rules: at least one, at most MaxFormats,
// names like "mp4-1080p" ([a-z0-9-], 1 to 32 bytes), no name twice, and a
// positive size each.
func CheckFormats(fs []Format) error {
	switch {
	case len(fs) == 0:
		return fieldErr("formats", "empty", "list at least one format, such as {\"format\": \"mp4-1080p\", \"size_bytes\": 123}")
	case len(fs) > MaxFormats:
		return fieldErr("formats", "too_many", "has %d formats, over the limit of %d", len(fs), MaxFormats)
	}
	seen := make(map[string]int, len(fs))
	for i, f := range fs {
		if !ValidFormatName(f.Name) {
			return fieldErr(fieldIndex("formats", i, "format"), "invalid_format_name",
				"%q is not a format name: use 1 to %d characters of a-z, 0-9 and '-', like mp4-1080p", truncate(f.Name), MaxFormatNameBytes)
		}
		if j, dup := seen[f.Name]; dup {
			return fieldErr(fieldIndex("formats", i, "format"), "duplicate_format", "%q is listed twice (also at formats[%d])", f.Name, j)
		}
		seen[f.Name] = i
		switch {
		case f.SizeBytes <= 0:
			return fieldErr(fieldIndex("formats", i, "size_bytes"), "not_positive", "must be a positive number of bytes (got %d)", f.SizeBytes)
		case f.SizeBytes > MaxSizeBytes:
			return fieldErr(fieldIndex("formats", i, "size_bytes"), "too_large", "is over %d bytes", MaxSizeBytes)
		}
	}
	return nil
}

// ValidFormatName reports whether s is a format name: 1 to 32 bytes of
// lowercase ASCII letters, digits and hyphens.
func ValidFormatName(s string) bool {
	if s == "" || len(s) > MaxFormatNameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID accepts the canonical text form of a UUID, as ids are written.
func ValidID(id string) bool { return field.LowerUUID(id) }

func fieldIndex(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
