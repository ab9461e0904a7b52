package audit_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newChained returns a chained store on a fresh migrated database, with the
// pool for direct SQL (tampering).
func newChained(t *testing.T) (eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	inner := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(inner.Close)
	return audit.NewChainedStore(inner), pool
}

// genEvent is one generated account event with the time it happened.
type genEvent struct {
	event account.Event
	at    time.Time
}

// generateHistory makes a plausible random account history of n events
// (the first is the registration), one second or more apart, using the
// aggregate's own decisions where they matter so the history is one the
// domain could produce.
func generateHistory(t *testing.T, rnd *rand.Rand, id string, start time.Time, n int) []genEvent {
	t.Helper()
	at := start.UTC().Truncate(time.Millisecond)
	email, err := account.NormaliseEmail("audit-" + id[:8] + "@example.com")
	if err != nil {
		t.Fatal(err)
	}
	out := []genEvent{{account.AccountRegistered{AccountID: id, Email: email.String(), PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2g",
		Newsletter: rnd.IntN(2) == 0, RegisteredAt: at}, at}}
	var sessions []string
	hex64 := func() string {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		return hex.EncodeToString(b)
	}
	for len(out) < n {
		at = at.Add(time.Duration(1+rnd.IntN(3600)) * time.Second)
		var e account.Event
		switch rnd.IntN(11) {
		case 0:
			e = account.VerificationCodeIssued{AccountID: id, Purpose: account.PurposeVerifyEmail, CodeHash: hex64(), IssuedAt: at, ExpiresAt: at.Add(30 * time.Minute)}
		case 1:
			e = account.VerificationCodeRejected{AccountID: id, Purpose: account.PurposeVerifyEmail, Reason: account.RejectedWrong, At: at}
		case 2:
			e = account.AccountVerified{AccountID: id, At: at}
		case 3, 4:
			s := uuid.NewString()
			sessions = append(sessions, s)
			e = account.LoggedIn{AccountID: id, SessionID: s, At: at}
		case 5:
			e = account.LoginFailed{AccountID: id, At: at}
		case 6:
			if len(sessions) == 0 {
				continue
			}
			i := rnd.IntN(len(sessions))
			e = account.LoggedOut{AccountID: id, SessionID: sessions[i], At: at}
			sessions = append(sessions[:i], sessions[i+1:]...)
		case 7:
			e = account.PasswordResetCompleted{AccountID: id, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdA$bmV3aGFzaA", At: at}
			sessions = nil
		case 8:
			e = account.NewsletterSubscribed{AccountID: id, At: at}
		case 9:
			e = account.NewsletterUnsubscribed{AccountID: id, At: at}
		case 10:
			e = account.VideoDownloaded{AccountID: id, VideoID: uuid.NewString(), Format: "mp4-1080p", At: at}
		}
		out = append(out, genEvent{e, at})
	}
	return out
}

// toData encodes an event with the metadata commands stamp on it.
func toData(t *testing.T, e genEvent) eventstore.EventData {
	t.Helper()
	typ, data, err := account.Encode(e.event)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7())
	md, err := json.Marshal(eventstore.Metadata{EventID: id.String(), CorrelationID: uuid.NewString(), CausationID: uuid.NewString(),
		Actor: "anonymous", ClientIP: "192.0.2.7", OccurredAt: e.at})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: md}
}

// appendHistory appends a history one event at a time with exact expected
// versions, as command handlers do, and returns each event's position.
func appendHistory(t *testing.T, store eventstore.Store, id string, history []genEvent) []eventstore.Position {
	t.Helper()
	ctx := ctxT(t)
	var out []eventstore.Position
	for i, e := range history {
		exp := eventstore.NoStream
		if i > 0 {
			exp = eventstore.Exact(uint64(i - 1))
		}
		res, err := store.Append(ctx, account.StreamID(id), exp, toData(t, e))
		if err != nil {
			t.Fatalf("append event %d: %v", i, err)
		}
		out = append(out, res.Position)
	}
	return out
}

// claimEmail appends the e-mail claim of an account, in the legacy
// (unkeyed) stream: a service without WithPrivacy finds it there.
func claimEmail(t *testing.T, store eventstore.Store, id, email string, at time.Time) {
	t.Helper()
	norm, err := account.NormaliseEmail(email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctxT(t), norm.LegacyStreamID(), eventstore.NoStream, toData(t, genEvent{account.EmailClaimed{AccountID: id, At: at}, at})); err != nil {
		t.Fatal(err)
	}
}

// waitForHead waits until ReadAll reaches pos: events above the oldest
// transaction still running on the server (any database's) are not read yet.
func waitForHead(t testing.TB, store eventstore.Store, pos eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		head, err := store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !head.Less(pos) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("head stuck at %s, before %s", head, pos)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
