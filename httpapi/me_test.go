package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

// TestProfileRightAfterLoginShowsTheLogin: GET /api/me without
// consistent_with waits for the session's own login to reach the read
// model. The projectors start only after the request is sent, so an answer
// that did not wait would be a 404.
func TestProfileRightAfterLoginShowsTheLogin(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	var (
		rt       *projections.Runtime
		runCtx   context.Context
		profiles ProfileReader
		waiter   Consistency
	)
	e := newTestEnvOn(t, func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store {
		store := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(store.Close)
		var err error
		rt, err = projections.NewRuntime(projections.Config{Store: store, Pool: pool, Logger: quiet,
			Projections: []projections.Projection{accounts.New()}})
		if err != nil {
			t.Fatal(err)
		}
		runCtx = ctx
		w := projections.NewWaiter(ctx, pool, quiet)
		t.Cleanup(w.Close)
		profiles, waiter = newProfilesFromReadModel(t, pool), w
		return store
	}, func(c *Config) {
		c.Profiles, c.Consistency, c.ConsistencyTimeout = profiles, waiter, 30*time.Second
	})
	email := uniqueEmail("freshlogin")
	registerVerified(t, e, email)
	sess := login(t, e.server, email, strongPassword)

	ctx, stop := context.WithCancel(runCtx)
	done := make(chan error, 1)
	starter := time.AfterFunc(200*time.Millisecond, func() { done <- rt.Run(ctx) })
	t.Cleanup(func() {
		stop()
		if starter.Stop() {
			return // never started
		}
		if err := <-done; err != nil {
			t.Errorf("projections runtime: %v", err)
		}
	})
	rec := doRequest(t, e.server, http.MethodGet, "/api/me", sess.Token, nil)
	wantStatus(t, rec, http.StatusOK)
	var p AccountProfile
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.AccountID != sess.AccountID || p.LastLoginAt == nil {
		t.Errorf("profile right after login = %+v, want account %s with its login", p, sess.AccountID)
	}
}

// countingConsistency passes WaitFor on to the real Waiter and counts the
// calls (a spy, not a double).
type countingConsistency struct {
	Consistency
	calls atomic.Int64
}

func (c *countingConsistency) WaitFor(ctx context.Context, pos eventstore.Position, readModels ...string) error {
	c.calls.Add(1)
	return c.Consistency.WaitFor(ctx, pos, readModels...)
}

// TestProfileDuringAStallWaitsOncePerSession: a transaction held open in
// the service's database keeps a new login from being projected; the
// session's first GET /api/me waits CONSISTENCY_TIMEOUT for it, later ones
// answer at once from the read model instead of waiting every time.
func TestProfileDuringAStallWaitsOncePerSession(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	spy := &countingConsistency{}
	var profiles ProfileReader
	e := newTestEnvOn(t, func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store {
		store := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(store.Close)
		rt, err := projections.NewRuntime(projections.Config{Store: store, Pool: pool, Logger: quiet,
			Projections: []projections.Projection{accounts.New()}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		runCtx, stop := context.WithCancel(ctx)
		go func() { done <- rt.Run(runCtx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("projections runtime: %v", err)
			}
		})
		w := projections.NewWaiter(ctx, pool, quiet)
		t.Cleanup(w.Close)
		profiles, spy.Consistency = newProfilesFromReadModel(t, pool), w
		return store
	}, func(c *Config) {
		c.Profiles, c.Consistency, c.ConsistencyTimeout = profiles, spy, time.Second
	})
	email := uniqueEmail("stall")
	registerVerified(t, e, email) // nobody logs in before verifying
	first := login(t, e.server, email, strongPassword)
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/me", first.Token, nil), http.StatusOK)

	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // as any write does
		t.Fatal(err)
	}
	sess := login(t, e.server, email, strongPassword) // its LoggedIn waits behind the open transaction
	before := spy.calls.Load()
	for i := range 3 {
		rec := doRequest(t, e.server, http.MethodGet, "/api/me", sess.Token, nil)
		wantStatus(t, rec, http.StatusOK)
		if got := spy.calls.Load() - before; got != 1 {
			t.Fatalf("read %d of the session: %d waits for the login, want 1", i+1, got)
		}
	}
}
