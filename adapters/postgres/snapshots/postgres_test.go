package snapshots_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/adapters/postgres/snapshots"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestKeepsTheLatestOfItsSchema: a higher version replaces a lower one,
// never the reverse; another schema replaces either; Load asks for one
// schema; Drop forgets the stream.
func TestKeepsTheLatestOfItsSchema(t *testing.T) {
	ctx := context.Background()
	s := snapshots.New(pgtest.Connect(t, pgtest.NewDatabase(t), true))
	const stream = "account-x"
	snap := func(schema, version int, data string) commands.Snapshot {
		return commands.Snapshot{Stream: stream, Schema: schema, Version: version, LastEventID: uuid.New(), Data: []byte(data)}
	}
	if _, ok, err := s.Load(ctx, stream, 1); ok || err != nil {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	want := snap(1, 40, "forty")
	for _, sv := range []commands.Snapshot{snap(1, 10, "ten"), want, snap(1, 20, "twenty")} {
		if err := s.Save(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.Load(ctx, stream, 1)
	if err != nil || !ok || got.Version != want.Version || got.LastEventID != want.LastEventID || string(got.Data) != "forty" {
		t.Fatalf("got %+v %v %v, want %+v", got, ok, err, want)
	}
	if _, ok, _ := s.Load(ctx, stream, 2); ok {
		t.Fatal("a snapshot of schema 1 was returned for schema 2")
	}
	if err := s.Save(ctx, snap(2, 5, "five")); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Load(ctx, stream, 2); !ok || got.Version != 5 {
		t.Fatalf("another schema did not replace the row: %+v %v", got, ok)
	}
	if err := s.Drop(ctx, stream); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Load(ctx, stream, 2); ok {
		t.Fatal("dropped snapshot still loads")
	}
	if err := s.Save(ctx, snap(1, 0, "none")); err == nil || errors.Is(err, commands.ErrUnavailable) {
		t.Fatalf("version 0: got %v, want a plain refusal", err)
	}
}
