package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// dropDatabase drops the database pool is connected to, as an operator's
// mistake or a failed-over server would: the pool's connections are
// terminated and new ones are refused. It returns the database's name.
func dropDatabase(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	ctx := ctxFor(t)
	var name string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestUnavailableDatabaseAnswers503: with the database gone, the audit
// endpoints (event store reads), the statistics and the content queries
// (read-model reads) and a command answer 503 "unavailable" with the API's
// error body, not 500 "internal", and the message gives away nothing of the
// database; the driver's error goes to the log only.
func TestUnavailableDatabaseAnswers503(t *testing.T) {
	var (
		pool  *pgxpool.Pool
		store eventstore.Store
	)
	e := newTestEnvOn(t, func(ctx context.Context, p *pgxpool.Pool) eventstore.Store {
		raw := postgres.New(ctx, p, postgres.Options{})
		t.Cleanup(raw.Close)
		pool, store = p, audit.NewChainedStore(raw)
		return store
	}, func(c *Config) {
		c.AuditorToken, c.AdminToken = testAuditorToken, testAdminToken
		c.Audit = audit.NewService(store)
		c.ContentReads = content.NewReader(pool)
	})
	s := e.server
	email := uniqueEmail("unavailable")
	register(t, e, email)
	byEmail := "/api/audit/accounts/by-email/events?email=" + url.QueryEscape(email)
	rec := doRequest(t, s, http.MethodGet, byEmail, testAuditorToken, nil)
	wantStatus(t, rec, http.StatusOK)
	id := decodeBody[auditEventsBody](t, rec).AccountID
	wantStatus(t, doRequest(t, s, http.MethodGet, "/api/stats/downloads", testAuditorToken, nil), http.StatusOK)

	dbName := dropDatabase(t, pool)
	video := uuid.NewString()
	cases := []struct{ method, path, token string }{
		{http.MethodGet, byEmail, testAuditorToken},
		{http.MethodGet, "/api/audit/accounts/" + id + "/events", testAuditorToken},
		{http.MethodGet, "/api/audit/accounts/" + id + "/state", testAuditorToken},
		{http.MethodGet, "/api/audit/accounts/" + id + "/verify", testAuditorToken},
		{http.MethodGet, "/api/stats/downloads", testAuditorToken},
		{http.MethodGet, "/api/stats/downloads?video_id=" + video, testAdminToken},
		{http.MethodGet, "/api/stats/videos/top", testAuditorToken},
		{http.MethodGet, "/api/stats/formats", testAdminToken},
		{http.MethodGet, "/api/articles", ""},
		{http.MethodGet, "/api/videos", ""},
		{http.MethodGet, "/api/videos/" + video, ""},
		{http.MethodPost, "/api/sessions", ""},
	}
	leaks := []string{dbName, "postgres", "SQLSTATE", "3D000", "57P01", "127.0.0.1", "dial", "eventstore:", "content:"}
	for _, c := range cases {
		var body any
		if c.method == http.MethodPost {
			body = map[string]any{"email": email, "password": strongPassword}
		}
		rec := doRequest(t, s, c.method, c.path, c.token, body)
		if got, want := rec.Code, http.StatusServiceUnavailable; got != want {
			t.Errorf("%s %s: status %d, want %d; body %s", c.method, c.path, got, want, rec.Body)
			continue
		}
		if got, want := rec.Header().Get("Content-Type"), "application/json; charset=utf-8"; got != want {
			t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, got, want)
		}
		got := errorOf(t, rec)
		if got, want := got.Code, "unavailable"; got != want {
			t.Errorf("%s %s: code %q, want %q", c.method, c.path, got, want)
		}
		if got, want := got.Message, unavailableMessage; got != want {
			t.Errorf("%s %s: message %q, want %q", c.method, c.path, got, want)
		}
		for _, leak := range leaks {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("%s %s: the body gives away %q: %s", c.method, c.path, leak, rec.Body)
			}
		}
	}
	// The cause is in the log, for operators.
	if got, want := strings.Count(e.logs.String(), `"msg":"request failed"`), len(cases); got < want {
		t.Errorf("%d failed requests logged, want at least %d:\n%s", got, want, e.logs)
	}
}

// TestConsistentWithAStoppedProjection: a poison event stops the accounts
// projection; GET /api/me?consistent_with= a position past it answers 503
// at once, naming the stopped projection and what an operator must do,
// instead of waiting out the timeout.
func TestConsistentWithAStoppedProjection(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	var (
		profiles ProfileReader
		waiter   Consistency
	)
	e := newTestEnvOn(t, func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store {
		store := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(store.Close)
		profiles, waiter = runAccountsProjection(t, ctx, store, pool,
			projections.Config{Logger: quiet, MaxRetries: 2, RetryInterval: 5 * time.Millisecond})
		return store
	}, func(c *Config) {
		// Long enough that a reply before it means the stop was seen.
		c.Profiles, c.Consistency, c.ConsistencyTimeout = profiles, waiter, time.Minute
	})
	s := e.server
	email := uniqueEmail("stopped")
	registerVerified(t, e, email)
	sess := login(t, s, email, strongPassword)
	wantStatus(t, doRequest(t, s, http.MethodGet, "/api/me?consistent_with="+sess.Position, sess.Token, nil), http.StatusOK)

	// An AccountRegistered the projection can never apply, as a bug or a
	// hand-edited event would leave it.
	res, err := e.store.Append(ctxFor(t), "account-broken", eventstore.NoStream, eventstore.EventData{ID: uuid.New(),
		Type: account.AccountRegisteredType, Data: json.RawMessage(`{"account_id": "not-a-uuid", "email": "x@example.com"}`)})
	if err != nil {
		t.Fatal(err)
	}
	pos := s.tokens.Seal(res.Position)
	rec := doRequest(t, s, http.MethodGet, "/api/me?consistent_with="+pos, sess.Token, nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	got := errorOf(t, rec)
	if got, want := got.Code, "projection_stopped"; got != want {
		t.Errorf("code: got %q, want %q (%s)", got, want, rec.Body)
	}
	for _, want := range []string{"accounts", "stopped", "multimedia projections skip"} {
		if !strings.Contains(got.Message, want) {
			t.Errorf("message %q does not say %q", got.Message, want)
		}
	}
	// The raw position is operator data: in the log, not in the reply.
	if raw := res.Position.String(); strings.Contains(rec.Body.String(), raw) {
		t.Errorf("the reply shows the raw position %s: %s", raw, rec.Body)
	}
	if !strings.Contains(e.logs.String(), res.Position.String()) || !strings.Contains(e.logs.String(), "dead-lettered") {
		t.Errorf("the log does not name the position and the dead letter:\n%s", e.logs)
	}
	if got := rec.Header().Get("Retry-After"); got != "" {
		t.Errorf("Retry-After %q: retrying cannot help until an operator acts", got)
	}
	// Without consistent_with the (stale) profile is still served.
	wantStatus(t, doRequest(t, s, http.MethodGet, "/api/me", sess.Token, nil), http.StatusOK)
}
