package phantoms_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

var errDecided = errors.New("decided with an error")

// TestUpdatePhantom: a new key starts empty; events returned are stored
// after the earlier ones, also when decide returns an error (which comes
// back as is); concurrent updates of one key are serialised.
func TestUpdatePhantom(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := phantoms.New(pool)
	ctx := context.Background()
	key := []byte("key-1")
	ev := func(n int) commands.PhantomEvent {
		return commands.PhantomEvent{Type: "T.v1", Data: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`)}
	}
	err := s.UpdatePhantom(ctx, key, nil, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
		if len(history) != 0 {
			t.Errorf("a new phantom has %d events", len(history))
		}
		return []commands.PhantomEvent{ev(0)}, errDecided
	})
	if !errors.Is(err, errDecided) {
		t.Fatalf("UpdatePhantom = %v, want decide's error", err)
	}
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.UpdatePhantom(ctx, key, nil, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
				return []commands.PhantomEvent{ev(len(history))}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var got []commands.PhantomEvent
	if err := s.UpdatePhantom(ctx, key, nil, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
		got = history
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("stored %d events, want %d", len(got), n+1)
	}
	for i, e := range got {
		var d struct{ N int }
		if err := json.Unmarshal(e.Data, &d); err != nil || d.N != i || e.Type != "T.v1" {
			t.Errorf("event %d = %s %s, want T.v1 {\"n\":%d} (updates not serialised?)", i, e.Type, e.Data, i)
		}
	}

	// Nothing is idle yet.
	if n, err := s.DeleteIdle(ctx); err != nil || n != 0 {
		t.Errorf("DeleteIdle = %d, %v; want 0, nil", n, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE phantom_accounts SET updated_at = now() - interval '31 days'`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteIdle(ctx); err != nil || n != 1 {
		t.Errorf("DeleteIdle after 31 days = %d, %v; want 1, nil", n, err)
	}
}

// TestLongHistoryIsTrimmed: the registration (the first PhantomHead
// events) and the latest PhantomTail events are kept.
func TestLongHistoryIsTrimmed(t *testing.T) {
	s := phantoms.New(pgtest.NewPool(t))
	ctx := context.Background()
	key := []byte("long")
	ev := func(n int) commands.PhantomEvent {
		return commands.PhantomEvent{Type: "T.v1", Data: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`)}
	}
	const batch = 25
	total := (commands.PhantomHead + commands.PhantomTail + 50) / batch * batch
	for i := 0; i < total; i += batch {
		if err := s.UpdatePhantom(ctx, key, nil, func([]commands.PhantomEvent) ([]commands.PhantomEvent, error) {
			events := make([]commands.PhantomEvent, batch)
			for j := range events {
				events[j] = ev(i + j)
			}
			return events, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []commands.PhantomEvent
	if err := s.UpdatePhantom(ctx, key, nil, func(h []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
		got = h
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != commands.PhantomHead+commands.PhantomTail {
		t.Fatalf("kept %d events, want %d", len(got), commands.PhantomHead+commands.PhantomTail)
	}
	n := func(e commands.PhantomEvent) int {
		var d struct{ N int }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d.N
	}
	if n(got[0]) != 0 || n(got[1]) != 1 || n(got[2]) != total-commands.PhantomTail || n(got[len(got)-1]) != total-1 {
		t.Errorf("kept events %d, %d, %d … %d; want 0, 1, %d … %d", n(got[0]), n(got[1]), n(got[2]), n(got[len(got)-1]), total-commands.PhantomTail, total-1)
	}
}

// TestPhantomBounds (issue 10, item 6): a client's new phantom beyond
// PerClient drops that client's least recently changed one and nobody
// else's; DeleteIdle drops the least recently changed beyond Total.
func TestPhantomBounds(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := phantoms.New(pool).WithLimits(phantoms.Limits{PerClient: 3, Total: 4})
	ctx := context.Background()
	touch := func(key, client string) {
		t.Helper()
		if err := s.UpdatePhantom(ctx, []byte(key), []byte(client), func([]commands.PhantomEvent) ([]commands.PhantomEvent, error) {
			return []commands.PhantomEvent{{Type: "T.v1", Data: json.RawMessage(`{}`)}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func() map[string]bool {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT key FROM phantom_accounts`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for rows.Next() {
			var k []byte
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			got[string(k)] = true
		}
		return got
	}
	touch("b1", "client-b")
	for _, k := range []string{"a1", "a2", "a3"} {
		touch(k, "client-a")
	}
	touch("a1", "client-a") // a1 changed last: a2 is now the least recent
	touch("a4", "client-a")
	got := keys()
	if got["a2"] || !got["a1"] || !got["a3"] || !got["a4"] || !got["b1"] || len(got) != 4 {
		t.Fatalf("after client-a's fourth phantom: %v, want a1 a3 a4 b1 (a2, the least recently changed, dropped)", got)
	}
	touch("c1", "client-c")
	if n, err := s.DeleteIdle(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteIdle over Total = %d, %v; want 1", n, err)
	}
	if got := keys(); got["b1"] || len(got) != 4 {
		t.Fatalf("beyond Total: %v, want b1 (the least recently changed) dropped", got)
	}
}

// TestPhantomRowSize (issue 10, item 6) measures what a phantom costs in
// Postgres: a typical one (the stand-in's registration and one refused
// try) and one with the longest history kept (PhantomHead + PhantomTail
// events, each a counted wrong code with its client tag).
func TestPhantomRowSize(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := phantoms.New(pool)
	ctx := context.Background()
	encode := func(e account.Event) commands.PhantomEvent {
		typ, data, err := account.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		return commands.PhantomEvent{Type: typ, Data: data}
	}
	id, at := "0b7e8a4e-6c1d-4f5a-9a3e-2f1c0d9e8b7a", time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.UTC)
	hash := strings.Repeat("ab", 32)
	client := strings.Repeat("cd", 32)
	head := []commands.PhantomEvent{
		encode(account.AccountRegistered{AccountID: id, Email: "phantom@phantom.invalid", PasswordHash: "phantom:no-password-matches", RegisteredAt: at}),
		encode(account.VerificationCodeIssued{AccountID: id, Purpose: account.PurposeVerifyEmail, CodeHash: hash, IssuedAt: at, ExpiresAt: at.Add(30 * time.Minute)}),
	}
	wrong := encode(account.VerificationCodeRejected{AccountID: id, Purpose: account.PurposeVerifyEmail, Reason: account.RejectedWrong, At: at, Client: client})
	size := func(key string, events []commands.PhantomEvent) int {
		t.Helper()
		if err := s.UpdatePhantom(ctx, []byte(key), []byte(client), func([]commands.PhantomEvent) ([]commands.PhantomEvent, error) {
			return events, nil
		}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT pg_column_size(p.*) FROM phantom_accounts p WHERE key = $1`, []byte(key)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	typical := size(strings.Repeat("k", 64), append(head, wrong))
	full := append([]commands.PhantomEvent{}, head...)
	for i := range commands.PhantomTail {
		// Different times and clients, as a long history has: they
		// compress less than copies of one event.
		tag := sha256.Sum256([]byte(strconv.Itoa(i)))
		full = append(full, encode(account.VerificationCodeRejected{AccountID: id, Purpose: account.PurposeVerifyEmail,
			Reason: account.RejectedWrong, At: at.Add(time.Duration(i) * 7919 * time.Millisecond), Client: hex.EncodeToString(tag[:])}))
	}
	longest := size(strings.Repeat("l", 64), full)
	t.Logf("phantom row: typical %d bytes, longest kept history %d bytes", typical, longest)
	if typical > 2048 || longest > 128*1024 {
		t.Errorf("phantom rows grew: typical %d bytes (want ≤ 2 KB), longest %d bytes (want ≤ 128 KB)", typical, longest)
	}
}
