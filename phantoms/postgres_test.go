package phantoms_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/phantoms"
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
	err := s.UpdatePhantom(ctx, key, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
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
			err := s.UpdatePhantom(ctx, key, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
				return []commands.PhantomEvent{ev(len(history))}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var got []commands.PhantomEvent
	if err := s.UpdatePhantom(ctx, key, func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
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
		if err := s.UpdatePhantom(ctx, key, func([]commands.PhantomEvent) ([]commands.PhantomEvent, error) {
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
	if err := s.UpdatePhantom(ctx, key, func(h []commands.PhantomEvent) ([]commands.PhantomEvent, error) {
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
