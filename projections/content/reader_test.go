package content_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// TestVideoCache: a cached Reader answers from memory within its ttl,
// VideoFresh never does, and after the ttl the cache reads again.
func TestVideoCache(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	video, pos := e.publishVideo(t, "cached", at)
	e.wait(t, pos)
	const ttl = 400 * time.Millisecond
	cached := e.reader.WithVideoCache(ttl)
	first, err := cached.Video(ctx, video.String())
	if err != nil || first.Downloads != 0 {
		t.Fatalf("first read: %+v, %v", first, err)
	}
	read := time.Now()
	e.wait(t, e.append(t, "account-"+uuid.NewString(), downloaded(t, uuid.New(), video, "mp4-720p", at)))
	if fresh, err := cached.VideoFresh(ctx, video.String()); err != nil || fresh.Downloads != 1 {
		t.Fatalf("fresh read: %+v, %v", fresh, err)
	}
	if again, err := cached.Video(ctx, video.String()); err != nil || (again.Downloads != 0 && time.Since(read) < ttl) {
		t.Fatalf("within the ttl the cache answers: %+v, %v", again, err)
	}
	time.Sleep(ttl)
	if later, err := cached.Video(ctx, video.String()); err != nil || later.Downloads != 1 {
		t.Fatalf("after the ttl: %+v, %v", later, err)
	}
	if _, err := cached.Video(ctx, uuid.NewString()); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("unknown video: %v", err)
	}
	if _, err := cached.Video(ctx, "not-a-uuid"); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("malformed id: %v", err)
	}
}

func TestIntervalBuckets(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	for _, c := range []struct {
		iv       content.Interval
		in, want string
		buckets  int
	}{
		{content.Day, "2026-03-04", "2026-03-04", 1},
		{content.Week, "2026-03-01", "2026-02-23", 1}, // a Sunday belongs to the week of the Monday before
		{content.Week, "2026-03-02", "2026-03-02", 1},
		{content.Month, "2026-02-28", "2026-02-01", 1},
	} {
		if got := c.iv.Floor(d(c.in).Add(13 * time.Hour)); !got.Equal(d(c.want)) {
			t.Errorf("%s floor of %s = %s, want %s", c.iv, c.in, got.Format(time.DateOnly), c.want)
		}
	}
	if n := content.Day.Buckets(d("2024-01-01"), d("2024-12-31")); n != 366 {
		t.Errorf("days of 2024: %d", n)
	}
	if n := content.Week.Buckets(d("2026-03-04"), d("2026-03-31")); n != 5 {
		t.Errorf("weeks: %d", n)
	}
	if n := content.Month.Buckets(d("2025-11-15"), d("2026-02-01")); n != 4 {
		t.Errorf("months: %d", n)
	}
	if _, err := content.ParseInterval("hour"); err == nil {
		t.Error("hour accepted")
	}
}
