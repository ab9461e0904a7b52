package content_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// env is a real database with the event store, the three content
// projections running in a Runtime, and a Waiter.
type env struct {
	pool   *pgxpool.Pool
	store  *postgres.Store
	waiter *projections.Waiter
	reader *content.Reader
}

func all() []projections.Projection {
	return []projections.Projection{content.NewArticles(), content.NewVideos(), content.NewDownloadStats()}
}

func newEnv(t testing.TB, run bool) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{FallbackPoll: 200 * time.Millisecond})
	t.Cleanup(store.Close)
	w := projections.NewWaiter(ctx, pool, quiet())
	t.Cleanup(w.Close)
	e := &env{pool: pool, store: store, waiter: w, reader: content.NewReader(pool)}
	if run {
		e.start(t)
	}
	return e
}

func (e *env) start(t testing.TB) {
	t.Helper()
	rt, err := projections.NewRuntime(projections.Config{Store: e.store, Pool: e.pool, Projections: all(),
		Logger: quiet(), TakeoverInterval: 200 * time.Millisecond, MaxBatch: 5000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime: %v", err)
		}
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// wait blocks until every content projection has applied pos.
func (e *env) wait(t testing.TB, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.waiter.WaitFor(ctx, pos, content.ArticlesName, content.VideosName, content.DownloadStatsName); err != nil {
		t.Fatalf("WaitFor(%s): %v", pos, err)
	}
}

// encoded turns what a domain encoder returned into an event to append, as
// commands do: projection tests build every event through the domain's own
// encoders, so a change of encoding cannot pass them unnoticed.
func encoded(t testing.TB) func(typ string, data []byte, err error) eventstore.EventData {
	return func(typ string, data []byte, err error) eventstore.EventData {
		t.Helper()
		if err != nil {
			t.Fatalf("encode %s: %v", typ, err)
		}
		return eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: json.RawMessage(`{"actor":"test"}`)}
	}
}

func (e *env) append(t testing.TB, stream string, evs ...eventstore.EventData) eventstore.Position {
	t.Helper()
	res, err := e.store.Append(context.Background(), stream, eventstore.Any, evs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res.Position
}

var defaultFormats = []video.Format{{Name: "mxf-broadcast", SizeBytes: 40 << 30}, {Name: "mp4-1080p", SizeBytes: 2 << 30}, {Name: "mp4-720p", SizeBytes: 1 << 30}}

func (e *env) publishVideo(t testing.TB, title string, at time.Time) (uuid.UUID, eventstore.Position) {
	t.Helper()
	id := uuid.New()
	pos := e.append(t, video.StreamID(id.String()), encoded(t)(video.Encode(video.VideoPublished{
		VideoID: id.String(), Title: title, Description: "about " + title, DurationSeconds: 600,
		Formats: defaultFormats, PublishedAt: at})))
	return id, pos
}

// downloaded is a VideoDownloaded.v1 event, as the download command writes it.
func downloaded(t testing.TB, acct, videoID uuid.UUID, format string, at time.Time) eventstore.EventData {
	return encoded(t)(download.Encode(download.VideoDownloaded{AccountID: acct.String(), VideoID: videoID.String(), Format: format, At: at}))
}
