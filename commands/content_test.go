package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/memory"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
	"github.com/multimedia-portal/multimedia/projections/content"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// newContent is the content commands on an in-memory event store of their
// own: for tests of what the commands decide, which need no database.
func newContent(t *testing.T) (*commands.Content, eventstore.Store) {
	t.Helper()
	store := memory.New(memory.Options{})
	return contentOn(t, store, newMemKeys()), store
}

func contentOn(t *testing.T, store eventstore.Store, keys commands.DataKeys) *commands.Content {
	t.Helper()
	c, err := commands.NewContent(commands.ContentConfig{Store: store, Keys: keys, DownloadBaseURL: "https://media.example.org/v",
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contentEnv is the content commands on a store of their own.
type contentEnv struct {
	content *commands.Content
	store   eventstore.Store
	pool    *pgxpool.Pool
	// keys are the accounts' data keys the downloads are sealed under (in
	// memory: the Postgres adapter is tested in its package).
	keys commands.DataKeys
}

// newContentEnv opens a fresh database. With production set, the store is
// wrapped in the audit chain as `serve` wires it, and commits do not wait
// for the WAL flush: such tests are about concurrency and counts, not
// durability, and this 2-core machine otherwise spends minutes in fsync.
func newContentEnv(t *testing.T, production bool) *contentEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url := pgtest.NewDatabase(t)
	if production {
		url += "&options=-c%20synchronous_commit%3Doff"
	}
	pool := pgtest.Connect(t, url, true)
	pg := postgres.New(ctx, pool, postgres.Options{})
	t.Cleanup(pg.Close)
	var store eventstore.Store = pg
	if production {
		store = audit.NewChainedStore(pg)
	}
	keys := newMemKeys()
	return &contentEnv{content: contentOn(t, store, keys), store: store, pool: pool, keys: keys}
}

// newContentEnvInMemory is the content commands on the in-memory event
// store wrapped in the audit chain as `serve` wraps its store, with a
// fresh database for the read models only (commits without waiting for
// the WAL flush, as in newContentEnv): for tests of the commands and
// projections under load, where Postgres's event store is not the
// subject (eventstore/postgres and projections/content test that).
func newContentEnvInMemory(t *testing.T) *contentEnv {
	t.Helper()
	pool := pgtest.Connect(t, pgtest.NewDatabase(t)+"&options=-c%20synchronous_commit%3Doff", true)
	store := audit.NewChainedStore(memory.New(memory.Options{}))
	keys := newMemKeys()
	return &contentEnv{content: contentOn(t, store, keys), store: store, pool: pool, keys: keys}
}

// newAccount writes a registered (and, if verified, verified) account's
// events straight to the store: the account commands are tested elsewhere.
func newAccount(t *testing.T, store eventstore.Store, verified bool) string {
	t.Helper()
	id := uuid.NewString()
	events := []account.Event{account.AccountRegistered{AccountID: id, Email: id + "@example.com", PasswordHash: "test-double-hash", RegisteredAt: t0}}
	if verified {
		events = append(events, account.AccountVerified{AccountID: id, At: t0})
	}
	var data []eventstore.EventData
	for _, e := range events {
		typ, payload, err := account.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, eventstore.EventData{ID: uuid.New(), Type: typ, Data: payload})
	}
	if _, err := store.Append(context.Background(), account.StreamID(id), eventstore.NoStream, data...); err != nil {
		t.Fatal(err)
	}
	return id
}

func publishVideo(t *testing.T, c *commands.Content) string {
	t.Helper()
	res, err := c.PublishVideo(context.Background(), commands.PublishVideo{Title: "Briefing", DurationSeconds: 60,
		Formats: []video.Format{{Name: "mp4-1080p", SizeBytes: 100}, {Name: "mp4-720p", SizeBytes: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.VideoID
}

func TestDownloadRules(t *testing.T) {
	ctx := context.Background()
	c, store := newContent(t)
	videoID := publishVideo(t, c)
	verified, unverified := newAccount(t, store, true), newAccount(t, store, false)

	res, err := c.Download(ctx, commands.DownloadVideo{AccountID: verified, VideoID: videoID, Format: "mp4-720p"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://media.example.org/v/" + videoID + "/mp4-720p"; res.URL != want || res.Position.IsZero() {
		t.Fatalf("got %+v, want url %s", res, want)
	}
	if recs, _ := store.ReadStream(ctx, account.StreamID(verified), 2, 10); len(recs) != 0 {
		t.Fatalf("the download went to the account stream: %+v", recs)
	}
	recs, _ := store.ReadStream(ctx, download.StreamID(verified, t0), 0, 10)
	if len(recs) != 1 || recs[0].Type != download.VideoDownloadedType {
		t.Fatalf("download stream %s: %+v", download.StreamID(verified, t0), recs)
	}
	var got download.VideoDownloaded
	_ = json.Unmarshal(recs[0].Data, &got)
	if want := (download.VideoDownloaded{AccountID: verified, VideoID: videoID, Format: "mp4-720p", At: t0}); got != want {
		t.Fatalf("event: got %+v, want %+v", got, want)
	}

	cases := []struct {
		name string
		cmd  commands.DownloadVideo
		want error
	}{
		{"unverified", commands.DownloadVideo{AccountID: unverified, VideoID: videoID, Format: "mp4-720p"}, account.ErrNotVerified},
		{"unknown video", commands.DownloadVideo{AccountID: verified, VideoID: uuid.NewString(), Format: "mp4-720p"}, video.ErrNotFound},
		{"not an id", commands.DownloadVideo{AccountID: verified, VideoID: "../x", Format: "mp4-720p"}, video.ErrNotFound},
		{"unknown format", commands.DownloadVideo{AccountID: verified, VideoID: videoID, Format: "mxf-broadcast"}, video.ErrUnknownFormat},
	}
	for _, tt := range cases {
		if _, err := c.Download(ctx, tt.cmd); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := c.WithdrawVideo(ctx, commands.WithdrawVideo{VideoID: videoID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Download(ctx, commands.DownloadVideo{AccountID: verified, VideoID: videoID, Format: "mp4-720p"}); !errors.Is(err, video.ErrWithdrawn) {
		t.Fatalf("withdrawn: %v", err)
	}
	if n := countDownloads(t, store, videoID); n != 1 {
		t.Fatalf("refused downloads were recorded: %d events", n)
	}
}

// countDownloads counts the VideoDownloaded events of a video in the whole log.
func countDownloads(t *testing.T, store eventstore.Store, videoID string) int {
	t.Helper()
	n := 0
	for re, err := range eventstore.AllEvents(context.Background(), store, eventstore.Start, 5000) {
		if err != nil {
			t.Fatal(err)
		}
		if re.Type != download.VideoDownloadedType {
			continue
		}
		var e download.VideoDownloaded
		if err := json.Unmarshal(re.Data, &e); err != nil {
			t.Fatal(err)
		}
		if e.VideoID == videoID {
			n++
		}
	}
	return n
}

// TestConcurrentDownloads: 50 clients, each its own account, download 2,000
// times each at once through the download command, on the audit-chained
// in-memory store (the chain as `serve` wires it), while the projectors
// run into Postgres read models; the log holds exactly 100,000 downloads of
// the video, and so do the video's count and the statistics. Concurrent
// appends on Postgres itself are the subject of eventstore/postgres's
// contract suite and of projections/content's TestConcurrentDownloads.
func TestConcurrentDownloads(t *testing.T) {
	clients, each := 50, 2000
	if testing.Short() {
		clients, each = 10, 100
	}
	ctx := context.Background()
	env := newContentEnvInMemory(t)
	c, store := env.content, env.store
	waiter := runProjections(t, env)
	videoID := publishVideo(t, c)
	accounts := make([]string, clients)
	for i := range accounts {
		accounts[i] = newAccount(t, store, true)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				format := "mp4-1080p"
				if j%3 == 0 {
					format = "mp4-720p"
				}
				if _, err := c.Download(ctx, commands.DownloadVideo{AccountID: accounts[i], VideoID: videoID, Format: format}); err != nil {
					errs <- fmt.Errorf("client %d download %d: %w", i, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	total := clients * each
	t.Logf("%d downloads by %d clients in %s (%.0f/s)", total, clients, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if n := countDownloads(t, store, videoID); n != total {
		t.Fatalf("log holds %d downloads of the video, want %d", n, total)
	}
	for _, id := range accounts[:3] {
		recs, err := store.ReadStream(ctx, account.StreamID(id), 0, each+10)
		if err != nil || len(recs) != 2 {
			t.Fatalf("account %s: %d events (%v), want 2 (downloads have streams of their own)", id, len(recs), err)
		}
		if recs, err = store.ReadStream(ctx, download.StreamID(id, t0), 0, each+10); err != nil || len(recs) != each {
			t.Fatalf("downloads of account %s: %d events (%v), want %d", id, len(recs), err, each)
		}
	}

	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := waiter.WaitFor(wctx, head, "videos", "download_stats"); err != nil {
		t.Fatal(err)
	}
	reader := content.NewReader(env.pool)
	v, err := reader.Video(ctx, videoID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Downloads, int64(total); got != want {
		t.Errorf("video's download count = %d, want %d", got, want)
	}
	day := t0.Truncate(24 * time.Hour)
	s, err := reader.DownloadSeries(ctx, content.SeriesQuery{From: day, To: day, Interval: content.Day, VideoID: videoID})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Total, int64(total); got != want {
		t.Errorf("statistics total = %d, want %d", got, want)
	}
	if len(s.Points) != 1 || s.Points[0].Accounts != int64(clients) {
		t.Errorf("statistics points %+v, want one day with %d accounts", s.Points, clients)
	}
}

// runProjections runs every read model's projector on env's store until
// the test ends and returns a Waiter on them.
func runProjections(t *testing.T, env *contentEnv) *projections.Waiter {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	rt, err := projections.NewRuntime(projections.Config{Store: env.store, Pool: env.pool, Logger: quiet,
		Projections: catalog.Default(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("projections runtime: %v", err)
		}
	})
	w := projections.NewWaiter(ctx, env.pool, quiet)
	t.Cleanup(w.Close)
	return w
}

func TestPublishArticleSlugs(t *testing.T) {
	ctx := context.Background()
	c, store := newContent(t)
	const n = 8
	var wg sync.WaitGroup
	slugs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.PublishArticle(ctx, commands.PublishArticle{Title: "NATO Allies discuss missile defence", Body: "text", Tags: []string{"nato"}})
			slugs[i], errs[i] = res.Slug, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[slugs[i]] {
			t.Fatalf("slug %q given twice: %v", slugs[i], slugs)
		}
		seen[slugs[i]] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[article.SlugCandidate("nato-allies-discuss-missile-defence", i)] {
			t.Fatalf("slugs are not base, base-2 … base-%d: %v", n, slugs)
		}
	}

	// A retry with the same id reuses its slug; a bad draft claims nothing.
	id := uuid.NewString()
	first, err := c.PublishArticle(ctx, commands.PublishArticle{ArticleID: id, Title: "Oslo meeting", Body: "b"})
	if err != nil || first.Slug != "oslo-meeting" {
		t.Fatal(first, err)
	}
	if _, err := c.PublishArticle(ctx, commands.PublishArticle{ArticleID: id, Title: "Oslo meeting", Body: "b"}); !errors.Is(err, article.ErrAlreadyPublished) {
		t.Fatal(err)
	}
	if _, err := c.PublishArticle(ctx, commands.PublishArticle{Title: "Empty body claims nothing", Body: " "}); !errors.Is(err, article.ErrInvalid) {
		t.Fatal(err)
	}
	if recs, _ := store.ReadStream(ctx, article.SlugStreamID("empty-body-claims-nothing"), 0, 10); len(recs) != 0 {
		t.Fatalf("a refused draft claimed its slug: %+v", recs)
	}
	title := "Oslo meeting, 26-27 April"
	res, err := c.UpdateArticle(ctx, commands.UpdateArticle{ArticleID: id, Changes: article.Changes{Title: &title}})
	if err != nil || res.Slug != "oslo-meeting" || res.Position.IsZero() {
		t.Fatal(res, err)
	}
	if _, err := c.UpdateArticle(ctx, commands.UpdateArticle{ArticleID: uuid.NewString(), Changes: article.Changes{Title: &title}}); !errors.Is(err, article.ErrNotFound) {
		t.Fatal(err)
	}
}
