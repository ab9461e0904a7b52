package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore/memory"
)

// memSnapshots is an in-memory commands.SnapshotStore that counts what it
// is asked.
type memSnapshots struct {
	mu    sync.Mutex
	snaps map[string]commands.Snapshot
	saves int
}

func (m *memSnapshots) Load(_ context.Context, stream string, schema int) (commands.Snapshot, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.snaps[stream]
	if !ok || s.Schema != schema {
		return commands.Snapshot{}, false, nil
	}
	return s, true, nil
}

func (m *memSnapshots) Save(_ context.Context, s commands.Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.snaps[s.Stream]; ok && old.Schema == s.Schema && old.Version >= s.Version {
		return nil
	}
	m.snaps[s.Stream] = s
	m.saves++
	return nil
}

func (m *memSnapshots) Drop(_ context.Context, stream string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.snaps, stream)
	return nil
}

func (m *memSnapshots) set(s commands.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snaps[s.Stream] = s
}

// TestSnapshotsAreACache: commands write a snapshot every SnapshotEvery
// events and load from it; a snapshot that does not follow the stream, or
// does not decode, or none at all, changes no answer.
func TestSnapshotsAreACache(t *testing.T) {
	ctx := context.Background()
	snaps := &memSnapshots{snaps: map[string]commands.Snapshot{}}
	e := newAccountsOn(t, memory.New(memory.Options{}), newMemSessions(), newMemPhantoms(), func(c *commands.AccountsConfig) {
		c.Snapshots, c.SnapshotEvery = snaps, 4
	})
	const addr, pw = "reader@example.com", "Cached-Account-Pass-9"
	e.registerVerified(t, addr, pw)
	res, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	id := res.AccountID
	toggle := func(on bool) {
		t.Helper()
		if _, err := e.accounts.SetNewsletter(ctx, commands.SetNewsletter{AccountID: id, Subscribed: on}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		toggle(i%2 == 0)
	}
	stream := account.StreamID(id)
	snap, ok, _ := snaps.Load(ctx, stream, account.SnapshotSchema)
	if !ok || snaps.saves < 2 {
		t.Fatalf("after 10 toggles: snapshot %v, %d saves; want one saved every 4 events", ok, snaps.saves)
	}
	recs, err := e.store.ReadStream(ctx, stream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version > len(recs) || recs[snap.Version-1].ID != snap.LastEventID {
		t.Fatalf("snapshot at version %d does not name the stream's event %d", snap.Version, snap.Version-1)
	}

	// The account is unsubscribed (the last toggle, i=9, was off). A
	// snapshot that says "subscribed" at the stream's head but names
	// another event as its last, and one that does not decode: both are
	// ignored, so unsubscribing appends nothing.
	// Snapshots hold the address: they are sealed whole under the
	// account's data key.
	if bytes.Contains(snap.Data, []byte(addr)) || !account.IsSealed(string(snap.Data)) {
		t.Fatalf("the snapshot is not sealed: %.80s", snap.Data)
	}
	c, err := e.keys.ForReading(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.Open(string(snap.Data))
	if err != nil {
		t.Fatal(err)
	}
	head, sessions, _ := bytes.Cut([]byte(plain), []byte("\n"))
	var fields map[string]any
	if err := json.Unmarshal(head, &fields); err != nil {
		t.Fatal(err)
	}
	fields["subscribed"], fields["version"] = true, len(recs)
	lying, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	lying = append(append(lying, '\n'), sessions...)
	sealedLie, err := c.Seal(string(lying))
	if err != nil {
		t.Fatal(err)
	}
	lying = []byte(sealedLie)
	for _, bad := range []commands.Snapshot{
		{Stream: stream, Schema: account.SnapshotSchema, Version: len(recs), LastEventID: uuid.New(), Data: lying},
		{Stream: stream, Schema: account.SnapshotSchema, Version: snap.Version, LastEventID: snap.LastEventID, Data: []byte("not a snapshot")},
	} {
		snaps.set(bad)
		if _, err := e.accounts.SetNewsletter(ctx, commands.SetNewsletter{AccountID: id, Subscribed: false}); err != nil {
			t.Fatal(err)
		}
		before := len(recs)
		if recs, err = e.store.ReadStream(ctx, stream, 0, 1000); err != nil {
			t.Fatal(err)
		}
		if len(recs) != before {
			t.Fatalf("unsubscribing an unsubscribed account appended %d events: the bad snapshot was believed", len(recs)-before)
		}
	}
	// Dropped: still right, and logging in and out still work.
	if err := snaps.Drop(ctx, stream); err != nil {
		t.Fatal(err)
	}
	toggle(true)
	if _, err := e.accounts.Logout(ctx, commands.Logout{Token: res.Token}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw}); err != nil {
		t.Fatal(err)
	}
}
