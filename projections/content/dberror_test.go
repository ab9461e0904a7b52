package content_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// TestQueryErrorsTellUnavailabilityFromBugs: a database that is gone makes
// every query fail with an error of code apperr.Unavailable (503 over
// HTTP); a query the database rejects (here: no tables, migrations not run)
// does not (500).
func TestQueryErrorsTellUnavailabilityFromBugs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	queries := map[string]func(r *content.Reader) error{
		"Articles": func(r *content.Reader) error { _, err := r.Articles(ctx, content.ListQuery{Limit: 10}); return err },
		"Article":  func(r *content.Reader) error { _, err := r.Article(ctx, "some-slug"); return err },
		"Videos":   func(r *content.Reader) error { _, err := r.Videos(ctx, content.ListQuery{Limit: 10}); return err },
		"VideoFresh": func(r *content.Reader) error {
			_, err := r.VideoFresh(ctx, "0b6f3f1e-8c3c-4a53-9a51-2f6f1f7d0a11")
			return err
		},
		"VideoKnown": func(r *content.Reader) error {
			_, err := r.VideoKnown(ctx, "0b6f3f1e-8c3c-4a53-9a51-2f6f1f7d0a11")
			return err
		},
		"FormatKnown": func(r *content.Reader) error { _, err := r.FormatKnown(ctx, "mp4-1080p", ""); return err },
		"DownloadSeries": func(r *content.Reader) error {
			_, err := r.DownloadSeries(ctx, content.SeriesQuery{From: day, To: day, Interval: content.Day})
			return err
		},
		"TopVideos":   func(r *content.Reader) error { _, err := r.TopVideos(ctx, day, day, 10); return err },
		"FormatSplit": func(r *content.Reader) error { _, err := r.FormatSplit(ctx, day, day, ""); return err },
	}

	unmigrated := content.NewReader(pgtest.Connect(t, pgtest.NewDatabase(t), false))
	for name, q := range queries {
		if err := q(unmigrated); err == nil || apperr.CodeOf(err) == apperr.Unavailable {
			t.Errorf("%s without tables: got %v (code %s), want an error that is not unavailable", name, err, apperr.CodeOf(err))
		}
	}

	pool := pgtest.NewPool(t)
	var db string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	gone := content.NewReader(pool)
	for name, q := range queries {
		if err := q(gone); apperr.CodeOf(err) != apperr.Unavailable {
			t.Errorf("%s on a dropped database: got %v (code %s), want unavailable", name, err, apperr.CodeOf(err))
		}
	}
}
