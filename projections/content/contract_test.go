package content_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// This package decodes events with copies of its own (events.go) instead of
// the domain's types. These tests hold the copies to the domain: the type
// names must be the ones the domain's encoders write, and what those
// encoders write must land in the read models field by field.

// TestTypeNamesAreTheDomains: each type name content reads is the name the
// domain's encoder gives the event, and every type a content projection
// subscribes to is one of those.
func TestTypeNamesAreTheDomains(t *testing.T) {
	written := func(typ string, _ []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return typ
	}
	cases := []struct{ read, written string }{
		{content.ArticlePublishedType, written(article.Encode(article.ArticlePublished{}))},
		{content.ArticleUpdatedType, written(article.Encode(article.ArticleUpdated{}))},
		{content.ArticleWithdrawnType, written(article.Encode(article.ArticleWithdrawn{}))},
		{content.VideoPublishedType, written(video.Encode(video.VideoPublished{}))},
		{content.VideoUpdatedType, written(video.Encode(video.VideoUpdated{}))},
		{content.VideoWithdrawnType, written(video.Encode(video.VideoWithdrawn{}))},
		{content.VideoDownloadedType, written(download.Encode(download.VideoDownloaded{}))},
		// Downloads recorded before they had streams of their own are on
		// account streams, under the same name.
		{content.VideoDownloadedType, written(account.Encode(account.VideoDownloaded{}))},
	}
	known := map[string]bool{}
	for _, c := range cases {
		if c.read != c.written {
			t.Errorf("content reads %q, the domain writes %q", c.read, c.written)
		}
		known[c.written] = true
	}
	for _, p := range []projections.Projection{content.NewArticles(), content.NewVideos(), content.NewDownloadStats()} {
		for _, typ := range p.EventTypes() {
			if !known[typ] {
				t.Errorf("projection %s subscribes to %q, which no domain encoder writes", p.Name(), typ)
			}
		}
	}
}

// TestDomainEventsProject: every event content reads, built by the
// domain's encoder with every field set, shows in the read model as the
// domain meant it.
func TestDomainEventsProject(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 9, 30, 0, 123456000, time.UTC)
	enc := encoded(t)

	// An article published, then changed in every field an update carries.
	articleID := uuid.NewString()
	e.append(t, article.StreamID(articleID), enc(article.Encode(article.ArticlePublished{ArticleID: articleID,
		Slug: "allies-meet-in-oslo", Title: "Allies meet", Summary: "A meeting", Body: "Ministers met.",
		Tags: []string{"nato", "oslo"}, PublishedAt: at})))
	title, summary, body, tags := "Allies meet in Oslo", "A meeting in Oslo", "Ministers met in Oslo.", []string{"oslo"}
	e.append(t, article.StreamID(articleID), enc(article.Encode(article.ArticleUpdated{ArticleID: articleID,
		Title: &title, Summary: &summary, Body: &body, Tags: &tags, UpdatedAt: at.Add(time.Hour)})))
	// An article published and withdrawn.
	gone := uuid.NewString()
	e.append(t, article.StreamID(gone), enc(article.Encode(article.ArticlePublished{ArticleID: gone,
		Slug: "withdrawn-article", Title: "Gone", Summary: "s", Body: "b", PublishedAt: at})),
		enc(article.Encode(article.ArticleWithdrawn{ArticleID: gone, WithdrawnAt: at.Add(time.Minute)})))

	// A video published, changed, and downloaded in a format it gained.
	videoID := uuid.NewString()
	e.append(t, video.StreamID(videoID), enc(video.Encode(video.VideoPublished{VideoID: videoID, Title: "Briefing",
		Description: "The briefing", DurationSeconds: 600, Formats: []video.Format{{Name: "mp4-1080p", SizeBytes: 2000}},
		PublishedAt: at})))
	vTitle, vDesc, vDuration := "Press briefing", "The press briefing", 660
	e.append(t, video.StreamID(videoID), enc(video.Encode(video.VideoUpdated{VideoID: videoID, Title: &vTitle,
		Description: &vDesc, DurationSeconds: &vDuration,
		Formats:   []video.Format{{Name: "mp4-1080p", SizeBytes: 2100}, {Name: "mp4-720p", SizeBytes: 900}},
		UpdatedAt: at.Add(2 * time.Hour)})))
	accountID := uuid.NewString()
	downloadAt := at.Add(3 * time.Hour)
	e.append(t, download.StreamID(accountID, downloadAt), enc(download.Encode(download.VideoDownloaded{AccountID: accountID,
		VideoID: videoID, Format: "mp4-720p", At: downloadAt})))
	// A video published and withdrawn.
	goneVideo := uuid.NewString()
	pos := e.append(t, video.StreamID(goneVideo), enc(video.Encode(video.VideoPublished{VideoID: goneVideo, Title: "Gone",
		DurationSeconds: 1, Formats: []video.Format{{Name: "mp4-720p", SizeBytes: 1}}, PublishedAt: at})),
		enc(video.Encode(video.VideoWithdrawn{VideoID: goneVideo, WithdrawnAt: at.Add(time.Minute)})))
	e.wait(t, pos)

	gotArticle, err := e.reader.Article(ctx, "allies-meet-in-oslo")
	if err != nil {
		t.Fatal(err)
	}
	updated := at.Add(time.Hour)
	wantArticle := content.Article{ArticleID: articleID, Slug: "allies-meet-in-oslo", Title: title, Summary: summary,
		Body: body, Tags: tags, PublishedAt: at, UpdatedAt: &updated}
	if !reflect.DeepEqual(utcArticle(gotArticle), wantArticle) {
		t.Errorf("article:\n got %+v\nwant %+v", utcArticle(gotArticle), wantArticle)
	}
	if _, err := e.reader.Article(ctx, "withdrawn-article"); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("withdrawn article: got %v, want ErrNotFound", err)
	}

	gotVideo, err := e.reader.VideoFresh(ctx, videoID)
	if err != nil {
		t.Fatal(err)
	}
	vUpdated := at.Add(2 * time.Hour)
	wantVideo := content.Video{VideoID: videoID, Title: vTitle, Description: vDesc, DurationSeconds: vDuration,
		Formats:   []content.VideoFormat{{Format: "mp4-1080p", SizeBytes: 2100}, {Format: "mp4-720p", SizeBytes: 900, Downloads: 1}},
		Downloads: 1, PublishedAt: at, UpdatedAt: &vUpdated}
	if !reflect.DeepEqual(utcVideo(gotVideo), wantVideo) {
		t.Errorf("video:\n got %+v\nwant %+v", utcVideo(gotVideo), wantVideo)
	}
	if _, err := e.reader.VideoFresh(ctx, goneVideo); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("withdrawn video: got %v, want ErrNotFound", err)
	}

	day := at.Truncate(24 * time.Hour)
	series, err := e.reader.DownloadSeries(ctx, content.SeriesQuery{From: day, To: day, Interval: content.Day, VideoID: videoID, Format: "mp4-720p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(series.Points) != 1 || series.Points[0].Downloads != 1 || series.Points[0].Accounts != 1 {
		t.Errorf("download statistics of the day: got %+v, want one download by one account", series.Points)
	}
}

// utcArticle and utcVideo put the read model's times in UTC, as the
// domain's events carry them.
func utcArticle(a content.Article) content.Article {
	a.PublishedAt = a.PublishedAt.UTC()
	if a.UpdatedAt != nil {
		u := a.UpdatedAt.UTC()
		a.UpdatedAt = &u
	}
	return a
}

func utcVideo(v content.Video) content.Video {
	v.PublishedAt = v.PublishedAt.UTC()
	if v.UpdatedAt != nil {
		u := v.UpdatedAt.UTC()
		v.UpdatedAt = &u
	}
	return v
}
