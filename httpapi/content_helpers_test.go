package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/mail/outbox"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

const (
	testAdminToken   = "admin-token-for-tests-0123456789"
	testAuditorToken = "auditor-token-for-tests-0123456789"
)

// readEnv is the real read side: Postgres event store, the content
// projections running in a projections.Runtime, the Waiter, and a Server
// whose ContentReads is a content.Reader on the same database.
type readEnv struct {
	pool   *pgxpool.Pool
	store  *postgres.Store
	waiter *projections.Waiter
	server *Server
}

func newReadEnv(t testing.TB, opts ...func(*Config)) *readEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{FallbackPoll: 200 * time.Millisecond})
	t.Cleanup(store.Close)
	logger := readsLogger()
	smtpMailer, err := smtp.New(smtp.Config{Addr: mailpit.SMTPAddrFromEnv(), From: "Test <test@multimedia.localhost>"})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := account.NewCodeHasher(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	// Queued only: these tests read no mail.
	mailOutbox, err := outbox.New(outbox.Config{Pool: pool, Events: store, Mailer: smtpMailer,
		Secret: bytes.Repeat([]byte("k"), 32), MessageIDDomain: "multimedia.localhost", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := datakeys.New(pool, bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := commands.NewAccounts(commands.AccountsConfig{Store: store, Passwords: password.Hasher{}, Codes: codes,
		Outbox: mailOutbox, Sessions: sessions.New(pool),
		Phantoms: phantoms.New(pool), Keys: keys, MailEraser: mailOutbox, PhantomEraser: phantoms.New(pool)})
	if err != nil {
		t.Fatal(err)
	}
	waiter := projections.NewWaiter(ctx, pool, logger)
	t.Cleanup(waiter.Close)
	rt, err := projections.NewRuntime(projections.Config{Store: store, Pool: pool, Logger: logger, MaxBatch: 5000,
		Projections: []projections.Projection{content.NewArticles(), content.NewVideos(), content.NewDownloadStats()}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime: %v", err)
		}
	})
	cfg := Config{Accounts: accounts, ContentReads: content.NewReader(pool), Consistency: waiter,
		AdminToken: testAdminToken, AuditorToken: testAuditorToken, RateLimit: RateLimit{Off: true}, Logger: logger,
		ConsistencyTimeout: 20 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &readEnv{pool: pool, store: store, waiter: waiter, server: s}
}

func newEvent(t testing.TB, typ string, data any) eventstore.EventData {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: uuid.New(), Type: typ, Data: b, Metadata: json.RawMessage(`{"actor":"test"}`)}
}

// append writes events as the write side would and returns the position.
func (e *readEnv) append(t testing.TB, stream string, evs ...eventstore.EventData) eventstore.Position {
	t.Helper()
	res, err := e.store.Append(context.Background(), stream, eventstore.Any, evs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res.Position
}

// wait blocks until the content read models have applied pos.
func (e *readEnv) wait(t testing.TB, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.waiter.WaitFor(ctx, pos, content.ArticlesName, content.VideosName, content.DownloadStatsName); err != nil {
		t.Fatalf("WaitFor(%s): %v", pos, err)
	}
}

var testFormats = []map[string]any{{"format": "mxf-broadcast", "size_bytes": 42_000_000_000}, {"format": "mp4-1080p", "size_bytes": 2_100_000_000}, {"format": "mp4-720p", "size_bytes": 900_000_000}}

func (e *readEnv) publishVideo(t testing.TB, title string, at time.Time) (string, eventstore.Position) {
	t.Helper()
	id := uuid.NewString()
	pos := e.append(t, "video-"+id, newEvent(t, content.VideoPublishedType, map[string]any{"video_id": id, "title": title,
		"description": "About " + title + ".", "duration_seconds": 754, "formats": testFormats, "published_at": at}))
	return id, pos
}

func (e *readEnv) downloads(t testing.TB, accountID string, videoID, format string, at ...time.Time) eventstore.Position {
	t.Helper()
	evs := make([]eventstore.EventData, len(at))
	for i, a := range at {
		evs[i] = newEvent(t, content.VideoDownloadedType, map[string]any{"account_id": accountID, "video_id": videoID, "format": format, "at": a})
	}
	return e.append(t, "account-"+accountID, evs...)
}

func decodeBody[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body.String(), err)
	}
	return v
}

func readsLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
