package audit_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// TestStateAsOfEqualsAggregate: for generated histories, the state as of
// each event's time is the aggregate folded from the events up to it, and
// it reflects that event's version and position.
func TestStateAsOfEqualsAggregate(t *testing.T) {
	t.Parallel()
	store, _ := newChained(t)
	ctx := ctxT(t)
	svc := audit.NewService(store)
	rnd := rand.New(rand.NewPCG(11, 12))
	for range 4 {
		id := uuid.NewString()
		history := generateHistory(t, rnd, id, time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), 40)
		positions := appendHistory(t, store, id, history)

		before, err := svc.StateAsOf(ctx, id, history[0].at.Add(-time.Nanosecond))
		if err != nil {
			t.Fatal(err)
		}
		if before.Registered || before.Events != 0 || before.Version != nil || before.Status != audit.StatusNotRegistered {
			t.Fatalf("before registration: %+v", before)
		}
		var events []account.Event
		for i, ge := range history {
			events = append(events, ge.event)
			agg := account.FromHistory(account.Policy{}, events)
			for _, asOf := range []time.Time{ge.at, ge.at.Add(999 * time.Millisecond)} {
				st, err := svc.StateAsOf(ctx, id, asOf)
				if err != nil {
					t.Fatal(err)
				}
				if st.Version == nil || *st.Version != uint64(i) || *st.Position != positions[i] || st.Events != i+1 {
					t.Fatalf("event %d as of %s: version %v position %v events %d; want %d %s", i, asOf, st.Version, st.Position, st.Events, i, positions[i])
				}
				compareWithAggregate(t, i, st, agg, events)
			}
		}
	}
	if _, err := svc.StateAsOf(ctx, uuid.NewString(), time.Now()); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	if _, err := svc.StateAsOf(ctx, "not-a-uuid", time.Now()); !errors.Is(err, audit.ErrInvalidArgument) || !strings.Contains(err.Error(), "not-a-uuid") {
		t.Fatalf("bad id: %v", err)
	}
}

func compareWithAggregate(t *testing.T, i int, st audit.State, agg *account.Account, events []account.Event) {
	t.Helper()
	timeEq := func(p *time.Time, v time.Time) bool {
		if v.IsZero() {
			return p == nil
		}
		return p != nil && p.Equal(v)
	}
	fail := func(what string, got, want any) {
		t.Helper()
		t.Fatalf("after event %d (%s): %s = %v, aggregate says %v", i, events[i].EventType(), what, got, want)
	}
	switch {
	case st.AccountID != agg.ID():
		fail("account id", st.AccountID, agg.ID())
	case st.Registered != agg.Registered():
		fail("registered", st.Registered, agg.Registered())
	case st.Email != agg.Email().String():
		fail("email", st.Email, agg.Email())
	case st.Verified != agg.Verified():
		fail("verified", st.Verified, agg.Verified())
	case !timeEq(st.VerifiedAt, agg.VerifiedAt()):
		fail("verified at", st.VerifiedAt, agg.VerifiedAt())
	case !timeEq(st.RegisteredAt, agg.RegisteredAt()):
		fail("registered at", st.RegisteredAt, agg.RegisteredAt())
	case st.Newsletter != agg.Subscribed():
		fail("newsletter", st.Newsletter, agg.Subscribed())
	case st.Events != agg.Version():
		fail("events", st.Events, agg.Version())
	}
	// Open sessions: every session ever opened is open in one exactly when
	// it is in the other, and the count matches.
	open := 0
	seen := map[string]bool{}
	for _, e := range events {
		if li, ok := e.(account.LoggedIn); ok && !seen[li.SessionID] {
			seen[li.SessionID] = true
			if agg.HasSession(li.SessionID) {
				open++
			}
		}
	}
	if st.OpenSessions != open {
		fail("open sessions", st.OpenSessions, open)
	}
	// Failed logins: the aggregate shows them through the login delay.
	now := time.Now()
	if st.FailedLogins == 0 && agg.LoginRetryAfter(now) != 0 {
		fail("failed logins", st.FailedLogins, "a login delay")
	}
}

func TestHistoryPagesAndRedacts(t *testing.T) {
	t.Parallel()
	store, _ := newChained(t)
	ctx := ctxT(t)
	svc := audit.NewService(store)
	id := uuid.NewString()
	history := generateHistory(t, rand.New(rand.NewPCG(3, 4)), id, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 25)
	// Make sure the secrets-bearing types are in it.
	history = append(history,
		genEvent{account.VerificationCodeIssued{AccountID: id, Purpose: account.PurposeResetPassword, CodeHash: strings.Repeat("ab", 32),
			IssuedAt: history[len(history)-1].at.Add(time.Minute), ExpiresAt: history[len(history)-1].at.Add(31 * time.Minute)}, history[len(history)-1].at.Add(time.Minute)},
		genEvent{account.PasswordRehashed{AccountID: id, PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", At: history[len(history)-1].at.Add(2 * time.Minute)}, history[len(history)-1].at.Add(2 * time.Minute)},
	)
	claimEmail(t, store, id, "audit-"+id[:8]+"@example.com", history[0].at)
	positions := appendHistory(t, store, id, history)

	var got []audit.HistoryEvent
	after := int64(-1)
	pages := 0
	for {
		page, err := svc.History(ctx, id, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page.Events...)
		if page.Next == nil {
			break
		}
		after = int64(*page.Next)
	}
	if pages != 3 || len(got) != len(history) {
		t.Fatalf("%d pages, %d events; want 3 pages, %d events", pages, len(got), len(history))
	}
	all, _ := json.Marshal(got)
	for _, secret := range []string{"$argon2id$", strings.Repeat("ab", 32)} {
		if strings.Contains(string(all), secret) {
			t.Fatalf("history holds a secret %q", secret)
		}
	}
	for i, e := range got {
		typ, _, _ := account.Encode(history[i].event)
		var md struct {
			Actor, ClientIP, CorrelationID, CausationID, Hash, PrevHash string
		}
		var raw map[string]string
		if err := json.Unmarshal(e.Metadata, &raw); err != nil {
			t.Fatal(err)
		}
		md.Actor, md.ClientIP, md.CorrelationID, md.Hash = raw["actor"], raw["client_ip"], raw["correlation_id"], raw["hash"]
		if e.Version != uint64(i) || e.Type != typ || e.Position != positions[i] || !e.OccurredAt.Equal(history[i].at) ||
			md.Actor != "anonymous" || md.ClientIP != "192.0.2.7" || md.CorrelationID == "" || len(md.Hash) != 64 {
			t.Fatalf("event %d: %+v metadata %s", i, e, e.Metadata)
		}
		switch typ {
		case account.AccountRegisteredType, account.PasswordResetCompletedType, account.PasswordRehashedType:
			if !strings.Contains(string(e.Data), `"password_hash":"[redacted]"`) {
				t.Fatalf("event %d (%s): %s", i, typ, e.Data)
			}
		case account.VerificationCodeIssuedType:
			if !strings.Contains(string(e.Data), `"code_hash":"[redacted]"`) {
				t.Fatalf("event %d (%s): %s", i, typ, e.Data)
			}
		}
	}
	// Lookup by address, whatever its case.
	byEmail, err := svc.AccountIDByEmail(ctx, "AUDIT-"+strings.ToUpper(id[:8])+"@Example.com")
	if err != nil || byEmail != id {
		t.Fatalf("by email: %q %v", byEmail, err)
	}
	if _, err := svc.AccountIDByEmail(ctx, "nobody@example.com"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("unknown address: %v", err)
	}
	if _, err := svc.AccountIDByEmail(ctx, "not an address"); !errors.Is(err, audit.ErrInvalidArgument) {
		t.Fatalf("bad address: %v", err)
	}
	for _, limit := range []int{0, audit.MaxPageSize + 1} {
		if _, err := svc.History(ctx, id, -1, limit); !errors.Is(err, audit.ErrInvalidArgument) || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
	if _, err := svc.History(ctx, uuid.NewString(), -1, 10); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	r, err := svc.VerifyAccount(ctx, id)
	if err != nil || !r.OK() || r.Events != int64(len(history)) {
		t.Fatalf("verify: %+v %v", r, err)
	}
}

func TestRedactData(t *testing.T) {
	t.Parallel()
	cases := []struct{ typ, in, want string }{
		{"Unknown.v1", `{"user":{"password_hash":"x","token":"t","name":"n"},"list":["$argon2id$v=19$..."],"prev_hash":"keep","hash":"keep"}`,
			`{"hash":"keep","list":["[redacted]"],"prev_hash":"keep","user":{"name":"n","password_hash":"[redacted]","token":"[redacted]"}}`},
		{account.AccountRegisteredType, `{"account_id":"a","email":"e@x.org","password_hash":"$argon2id$x","newsletter":true,"registered_at":"2026-01-01T00:00:00Z"}`,
			`{"account_id":"a","email":"e@x.org","newsletter":true,"password_hash":"[redacted]","registered_at":"2026-01-01T00:00:00Z"}`},
		{"Unknown.v1", `not json`, `"[redacted]"`},
	}
	for _, c := range cases {
		if got := string(audit.RedactData(c.typ, []byte(c.in))); got != c.want {
			t.Errorf("RedactData(%s, %s) = %s, want %s", c.typ, c.in, got, c.want)
		}
	}
}

var _ = eventstore.Start
