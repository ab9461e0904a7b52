package datakeys_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

const secret = "a data key test secret, 32 bytes at least"

func TestKeysLiveUntilDestroyed(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s, err := datakeys.New(pool, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()

	// Before any key: reading gives the erased cipher (nothing sealed yet).
	r, err := s.ForReading(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r, account.ErasedCipher; got != want {
		t.Fatalf("no key yet: got %v, want the erased cipher", got)
	}

	// Parallel first writers agree on one key.
	var wg sync.WaitGroup
	sealed := make([]string, 8)
	for i := range sealed {
		wg.Go(func() {
			c, err := s.ForWriting(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			sealed[i], err = c.Seal("198.51.100.7")
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err = s.ForReading(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range sealed {
		if got, err := r.Open(v); err != nil || got != "198.51.100.7" {
			t.Fatalf("got %q, %v; want the address under the one key", got, err)
		}
	}

	// Another secret does not unwrap it.
	other, err := datakeys.New(pool, []byte(secret+" but another"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ForReading(ctx, id); err == nil {
		t.Fatal("a key unwrapped under another secret")
	}

	if err := s.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(ctx, id); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if _, err := s.ForWriting(ctx, id); !errors.Is(err, account.ErrAccountErased) {
		t.Fatalf("writing after destroy: got %v, want ErrAccountErased", err)
	}
	r, err = s.ForReading(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Open(sealed[0]); err != nil || got != account.Erased {
		t.Fatalf("after destroy: got %q, %v; want %q", got, err, account.Erased)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM data_keys WHERE account_id = $1 AND wrapped IS NULL`, id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("tombstone rows: got %d, %v; want 1", n, err)
	}

	// An account that never had a key gets a tombstone too.
	legacy := uuid.NewString()
	if err := s.Destroy(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForWriting(ctx, legacy); !errors.Is(err, account.ErrAccountErased) {
		t.Fatalf("writing for a destroyed keyless account: got %v, want ErrAccountErased", err)
	}
}

func TestNewChecksTheSecret(t *testing.T) {
	if _, err := datakeys.New(pgtest.NewPool(t), []byte("short")); err == nil {
		t.Fatal("a short secret was accepted")
	}
}
