package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/projections"
)

// opensTo reports whether tok is a token of p.
func (t *PositionTokens) opensTo(tok string, p eventstore.Position) bool {
	got, err := t.Open(tok)
	return err == nil && got == p
}

func TestPositionTokensSealAndOpen(t *testing.T) {
	a, err := NewPositionTokens(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPositionTokens(bytes.Repeat([]byte("t"), 32))
	p := eventstore.Position{Commit: 1234, Prepare: 5}
	t1, t2 := a.Seal(p), a.Seal(p)
	if t1 == t2 {
		t.Errorf("one position sealed twice gave one token %q: tokens must not be comparable", t1)
	}
	for _, tok := range []string{t1, t2} {
		if !a.opensTo(tok, p) {
			t.Errorf("%q does not open to %v", tok, p)
		}
		if strings.Contains(tok, "1234") {
			t.Errorf("%q shows the position", tok)
		}
		if _, err := b.Open(tok); err == nil {
			t.Errorf("a token of another deployment's key opened")
		}
	}
	if _, err := NewPositionTokens([]byte("short")); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

// verifiedSession registers email, verifies it with the mailed code and
// logs in.
func verifiedSession(t *testing.T, e *testEnv, email string) tokenReply {
	t.Helper()
	register(t, e, email)
	code := e.codeFromMail(t, email, "verification code")
	wantStatus(t, doRequest(t, e.server, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": email, "code": code, "password": strongPassword}), http.StatusOK)
	return login(t, e.server, email, strongPassword)
}

// TestPositionsDoNotTellAccountsApart walks issue 10's probe: the prober
// toggles its own newsletter before and after a wrong login for a real
// address and for an unknown one, and compares what it gets back; then it
// asks a read for consistency with the position right after its own write,
// which answered at once for a real account and after the timeout for an
// unknown one. Now the replies carry fresh opaque tokens (nothing to
// subtract or compare), and a position the prober was not given cannot be
// asked for: forged, altered or raw values answer 400 invalid_position.
func TestPositionsDoNotTellAccountsApart(t *testing.T) {
	var (
		profiles ProfileReader
		waiter   Consistency
	)
	e := newTestEnvOn(t, func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store {
		store := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(store.Close)
		profiles, waiter = runAccountsProjection(t, ctx, store, pool, projections.Config{Logger: slog.New(slog.DiscardHandler)})
		return store
	}, func(c *Config) { c.Profiles, c.Consistency = profiles, waiter })
	s := e.server
	victim := uniqueEmail("victim")
	register(t, e, victim)
	prober := verifiedSession(t, e, uniqueEmail("prober"))

	toggle := func(on bool) string {
		t.Helper()
		rec := doRequest(t, s, http.MethodPut, "/api/me/newsletter", prober.Token, map[string]any{"subscribed": on})
		wantStatus(t, rec, http.StatusOK)
		return decodeBody[struct {
			Position string `json:"position"`
		}](t, rec).Position
	}
	probe := func(email string) {
		t.Helper()
		rec := doRequest(t, s, http.MethodPost, "/api/sessions", "", map[string]any{"email": email, "password": "Wrong-Password-99"})
		wantStatus(t, rec, http.StatusUnauthorized)
	}
	tokens := []string{toggle(true)}
	probe(victim)
	tokens = append(tokens, toggle(false))
	probe(uniqueEmail("nobody"))
	tokens = append(tokens, toggle(true))

	seen := map[string]bool{}
	for i, tok := range tokens {
		if seen[tok] {
			t.Errorf("token %d repeats an earlier one", i)
		}
		seen[tok] = true
		if _, err := eventstore.ParsePosition(tok); err == nil {
			t.Fatalf("reply %d carries a raw global position %q: a prober subtracts them", i, tok)
		}
		if len(tok) != len(tokens[0]) {
			t.Errorf("token lengths differ: %q vs %q", tok, tokens[0])
		}
		p, err := s.tokens.Open(tok)
		if err != nil || p.IsZero() {
			t.Fatalf("token %d does not open server-side: %v", i, err)
		}
		if strings.Contains(tok, strconv.FormatUint(p.Commit, 10)) && p.Commit > 999 {
			t.Errorf("token %q shows its commit position %d", tok, p.Commit)
		}
		// The prober's own token is honoured.
		wantStatus(t, doRequest(t, s, http.MethodGet, "/api/me?consistent_with="+url.QueryEscape(tok), prober.Token, nil), http.StatusOK)
	}

	// The consistent_with probe: ask for the position just past the last
	// write, as a raw position, as an altered token and as a token of
	// another deployment. Each is refused at once, naming the problem.
	last, _ := s.tokens.Open(tokens[len(tokens)-1])
	next := eventstore.Position{Commit: last.Commit, Prepare: last.Prepare + 1}
	other, _ := NewPositionTokens(bytes.Repeat([]byte("o"), 32))
	flipped := []byte(tokens[2])
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}
	for _, c := range []struct{ value, says string }{
		{next.String(), `starting "ct1."`},
		{strconv.FormatUint(last.Commit+1, 10), `starting "ct1."`},
		{string(flipped), "not issued by this service"},
		{other.Seal(next), "not issued by this service"},
		{tokens[2][:len(tokens[2])-3], "characters after"},
		{"ct1." + strings.Repeat("*", len(tokens[2])-4), "base64url"},
	} {
		rec := doRequest(t, s, http.MethodGet, "/api/me?consistent_with="+url.QueryEscape(c.value), prober.Token, nil)
		wantStatus(t, rec, http.StatusBadRequest)
		got := errorOf(t, rec)
		if got.Code != "invalid_position" || !strings.Contains(got.Message, c.says) || got.Details["parameter"] != "consistent_with" {
			t.Errorf("consistent_with=%s: %+v, want invalid_position saying %q", c.value, got, c.says)
		}
	}
}
