package video_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/domain/video"
)

var (
	t0 = time.Date(2026, 4, 19, 10, 0, 0, 0, time.UTC)
	id = "0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b"
)

func goodDraft() video.Draft {
	return video.Draft{
		Title: "  Missile defence briefing  ", Description: "NATO HQ, 19 April", DurationSeconds: 312,
		Formats: []video.Format{{Name: "mxf-broadcast", SizeBytes: 9_800_000_000}, {Name: "mp4-1080p", SizeBytes: 420_000_000}},
	}
}

func published(t *testing.T) *video.Video {
	t.Helper()
	events, err := video.FromHistory(nil).Publish(id, goodDraft(), t0)
	if err != nil {
		t.Fatal(err)
	}
	return video.FromHistory(events)
}

func TestPublish(t *testing.T) {
	events, err := video.FromHistory(nil).Publish(id, goodDraft(), t0.In(time.FixedZone("CET", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := events[0].(video.VideoPublished)
	if len(events) != 1 || !ok {
		t.Fatalf("events: %#v", events)
	}
	if got.Title != "Missile defence briefing" || got.PublishedAt != t0 || got.PublishedAt.Location() != time.UTC || len(got.Formats) != 2 {
		t.Fatalf("published: %+v", got)
	}
	_, data, err := video.Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]any
	_ = json.Unmarshal(data, &wire)
	for _, k := range []string{"video_id", "title", "description", "duration_seconds", "formats", "published_at"} {
		if _, ok := wire[k]; !ok {
			t.Errorf("VideoPublished.v1 lacks %q: %s", k, data)
		}
	}
	if !strings.Contains(string(data), `{"format":"mxf-broadcast","size_bytes":9800000000}`) {
		t.Errorf("formats not in the contract shape: %s", data)
	}
	back, err := video.Decode(video.VideoPublishedType, data)
	if err != nil || back.(video.VideoPublished).Formats[1] != got.Formats[1] {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	if _, err := video.FromHistory(events).Publish(id, goodDraft(), t0); !errors.Is(err, video.ErrAlreadyPublished) {
		t.Fatalf("second publish: %v", err)
	}
}

func TestPublishRejects(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*video.Draft)
		field  string
		reason string
	}{
		{"empty title", func(d *video.Draft) { d.Title = "   " }, "title", "empty"},
		{"long title", func(d *video.Draft) { d.Title = strings.Repeat("é", video.MaxTitleRunes+1) }, "title", "too_long"},
		{"newline in title", func(d *video.Draft) { d.Title = "a\nb" }, "title", "control_character"},
		{"long description", func(d *video.Draft) { d.Description = strings.Repeat("x", video.MaxDescriptionRunes+1) }, "description", "too_long"},
		{"negative duration", func(d *video.Draft) { d.DurationSeconds = -5 }, "duration_seconds", "negative"},
		{"zero duration", func(d *video.Draft) { d.DurationSeconds = 0 }, "duration_seconds", "zero"},
		{"day-long duration", func(d *video.Draft) { d.DurationSeconds = video.MaxDurationSeconds + 1 }, "duration_seconds", "too_long"},
		{"no formats", func(d *video.Draft) { d.Formats = nil }, "formats", "empty"},
		{"too many formats", func(d *video.Draft) {
			d.Formats = nil
			for i := range video.MaxFormats + 1 {
				d.Formats = append(d.Formats, video.Format{Name: "f" + strings.Repeat("x", i), SizeBytes: 1})
			}
		}, "formats", "too_many"},
		{"upper-case format", func(d *video.Draft) { d.Formats[1].Name = "MP4-1080p" }, "formats[1].format", "invalid_format_name"},
		{"format with slash", func(d *video.Draft) { d.Formats[0].Name = "../etc" }, "formats[0].format", "invalid_format_name"},
		{"long format", func(d *video.Draft) { d.Formats[0].Name = strings.Repeat("a", 33) }, "formats[0].format", "invalid_format_name"},
		{"duplicate format", func(d *video.Draft) { d.Formats[1].Name = "mxf-broadcast" }, "formats[1].format", "duplicate_format"},
		{"zero size", func(d *video.Draft) { d.Formats[1].SizeBytes = 0 }, "formats[1].size_bytes", "not_positive"},
		{"negative size", func(d *video.Draft) { d.Formats[0].SizeBytes = -1 }, "formats[0].size_bytes", "not_positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := goodDraft()
			tt.edit(&d)
			events, err := video.FromHistory(nil).Publish(id, d, t0)
			var fe *video.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, video.ErrInvalid) {
				t.Fatalf("got %v, %v; want a *FieldError", events, err)
			}
			if fe.Field != tt.field || fe.Reason != tt.reason || events != nil {
				t.Fatalf("got field %q reason %q (%v); want %q %q", fe.Field, fe.Reason, err, tt.field, tt.reason)
			}
		})
	}
	if _, err := video.FromHistory(nil).Publish("not-a-uuid", goodDraft(), t0); !errors.Is(err, video.ErrInvalid) {
		t.Fatalf("bad id: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	v := published(t)
	t1 := t0.Add(time.Hour)
	events, err := v.Update(video.Changes{Title: ptr("Missile defence briefing"), DurationSeconds: ptr(300),
		Formats: &[]video.Format{{Name: "mp4-720p", SizeBytes: 1}}}, t1)
	if err != nil {
		t.Fatal(err)
	}
	u := events[0].(video.VideoUpdated)
	if u.Title != nil || *u.DurationSeconds != 300 || u.Description != nil || len(u.Formats) != 1 || !u.UpdatedAt.Equal(t1) {
		t.Fatalf("only changed fields expected: %+v", u)
	}
	v.Apply(u)
	if err := v.CheckDownload("mp4-720p"); err != nil {
		t.Fatal(err)
	}
	var uf *video.UnknownFormatError
	if err := v.CheckDownload("mp4-1080p"); !errors.As(err, &uf) || uf.Available[0] != "mp4-720p" {
		t.Fatalf("replaced format still downloadable: %v", err)
	}
	if events, err := v.Update(video.Changes{DurationSeconds: ptr(300)}, t1); err != nil || events != nil {
		t.Fatalf("no-op update: %v %v", events, err)
	}
	if _, err := v.Update(video.Changes{}, t1); !errors.Is(err, video.ErrInvalid) {
		t.Fatalf("empty update: %v", err)
	}
	if _, err := v.Update(video.Changes{DurationSeconds: ptr(-1)}, t1); !errors.Is(err, video.ErrInvalid) {
		t.Fatalf("negative duration update: %v", err)
	}
	if _, err := video.FromHistory(nil).Update(video.Changes{Title: ptr("x")}, t1); !errors.Is(err, video.ErrNotFound) {
		t.Fatalf("update of nothing: %v", err)
	}
}

func TestWithdrawAndDownload(t *testing.T) {
	v := published(t)
	if err := v.CheckDownload("mp4-1080p"); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckDownload("mp4-4k"); !errors.Is(err, video.ErrUnknownFormat) {
		t.Fatalf("unknown format: %v", err)
	}
	if err := video.FromHistory(nil).CheckDownload("mp4-1080p"); !errors.Is(err, video.ErrNotFound) {
		t.Fatalf("unknown video: %v", err)
	}
	events, err := v.Withdraw(t0.Add(time.Hour))
	if err != nil || len(events) != 1 || events[0].(video.VideoWithdrawn).VideoID != id {
		t.Fatalf("withdraw: %v %v", events, err)
	}
	v.Apply(events[0])
	if err := v.CheckDownload("mp4-1080p"); !errors.Is(err, video.ErrWithdrawn) {
		t.Fatalf("download of withdrawn: %v", err)
	}
	if _, err := v.Update(video.Changes{Title: ptr("new")}, t0); !errors.Is(err, video.ErrWithdrawn) {
		t.Fatalf("update of withdrawn: %v", err)
	}
	if again, err := v.Withdraw(t0); err != nil || again != nil {
		t.Fatalf("second withdraw should be a no-op: %v %v", again, err)
	}
	if _, err := video.FromHistory(nil).Withdraw(t0); !errors.Is(err, video.ErrNotFound) {
		t.Fatalf("withdraw of nothing: %v", err)
	}
}

func TestDecodeUnknownType(t *testing.T) {
	if _, err := video.Decode("VideoExploded.v1", []byte(`{}`)); !errors.Is(err, video.ErrUnknownEventType) {
		t.Fatal(err)
	}
	if _, _, err := video.Encode(foreignEvent{}); !errors.Is(err, video.ErrUnknownEventType) {
		t.Fatalf("Encode(foreign) = %v", err)
	}
	if _, _, err := video.Encode((*video.VideoWithdrawn)(nil)); !errors.Is(err, video.ErrUnknownEventType) {
		t.Fatalf("Encode(nil pointer) = %v", err)
	}
}

type foreignEvent struct{}

func (foreignEvent) EventType() string { return "Foreign.v1" }
