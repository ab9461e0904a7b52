package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
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
		profiles, waiter = profilesFromReadModel{accounts.NewReader(pool)}, w
		return store
	}, func(c *Config) {
		c.Profiles, c.Consistency, c.ConsistencyTimeout = profiles, waiter, 30*time.Second
	})
	email := uniqueEmail("freshlogin")
	register(t, e, email)
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
