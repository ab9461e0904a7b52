package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

func newStore(t testing.TB, pool *pgxpool.Pool) *postgres.Store {
	t.Helper()
	s := postgres.New(context.Background(), pool, postgres.Options{FallbackPoll: 200 * time.Millisecond})
	t.Cleanup(s.Close)
	return s
}

// accountHistory returns the events of one account: about ten, of the
// handled types and others, in the order commands would append them.
func accountHistory(r *rand.Rand, id uuid.UUID, at time.Time) []eventstore.EventData {
	var evs []account.Event
	sid := id.String()
	evs = append(evs, account.AccountRegistered{AccountID: sid, Email: fmt.Sprintf("u-%s@example.com", sid[:8]),
		PasswordHash: "$argon2id$secret", Newsletter: r.IntN(2) == 0, RegisteredAt: at})
	evs = append(evs, account.VerificationCodeIssued{AccountID: sid, Purpose: "verify_email", CodeHash: "hash", IssuedAt: at, ExpiresAt: at.Add(time.Hour)})
	if r.IntN(10) < 7 {
		evs = append(evs, account.AccountVerified{AccountID: sid, At: at.Add(time.Minute)})
	}
	for i := range 3 + r.IntN(5) {
		t := at.Add(time.Duration(i+2) * time.Minute)
		switch r.IntN(4) {
		case 0:
			evs = append(evs, account.LoginFailed{AccountID: sid, At: t})
		case 1:
			evs = append(evs, account.NewsletterSubscribed{AccountID: sid, At: t})
		case 2:
			evs = append(evs, account.NewsletterUnsubscribed{AccountID: sid, At: t})
		default:
			evs = append(evs, account.LoggedIn{AccountID: sid, SessionID: uuid.NewString(), At: t})
		}
	}
	out := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		typ, data, err := account.Encode(e)
		if err != nil {
			panic(err)
		}
		out[i] = eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: json.RawMessage(`{}`)}
	}
	return out
}

// generate appends histories until at least n events are stored, each
// account's events in one append, from several writers at once. It returns
// the number of events and the greatest position appended.
func generate(t testing.TB, s eventstore.Store, n int, seed uint64) (int, eventstore.Position) {
	t.Helper()
	var (
		mu    sync.Mutex
		total int
		last  eventstore.Position
		wg    sync.WaitGroup
		errs  = make(chan error, 8)
	)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; ; i++ {
				mu.Lock()
				done := total >= n
				mu.Unlock()
				if done {
					return
				}
				id := uuid.New()
				evs := accountHistory(r, id, base.Add(time.Duration(w*1_000_000+i)*time.Second))
				res, err := s.Append(context.Background(), account.StreamID(id.String()), eventstore.NoStream, evs...)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total += len(evs)
				if last.Less(res.Position) {
					last = res.Position
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("generate: %v", err)
	}
	return total, last
}

// startRuntime runs a Runtime until the test ends.
func startRuntime(t testing.TB, cfg projections.Config) {
	t.Helper()
	if cfg.Projections == nil {
		cfg.Projections = []projections.Projection{accounts.New()}
	}
	if cfg.TakeoverInterval == 0 {
		cfg.TakeoverInterval = 200 * time.Millisecond
	}
	rt, err := projections.NewRuntime(cfg)
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

func waitFor(t testing.TB, w *projections.Waiter, pos eventstore.Position, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := w.WaitFor(ctx, pos, accounts.Name); err != nil {
		t.Fatalf("WaitFor(%s): %v", pos, err)
	}
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
