package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// aggregate says how one kind of aggregate (A, e.g. *account.Account) is
// read from and written to its stream of events E: the one place where
// the generic repository learns about a domain package. Every command
// goes through load and update below, so the loop of load, decide, stamp,
// append and retry exists once.
type aggregate[A any, E any] struct {
	// name is what conflict errors call the aggregate ("account").
	name string
	// decode and encode are the domain package's codec.
	decode func(eventType string, data []byte) (E, error)
	encode func(E) (string, []byte, error)
	// empty returns the aggregate before its first event; apply folds one
	// event into it; version is the number of events folded.
	empty   func() A
	apply   func(A, E)
	version func(A) int
	// snapshot, when set, lets the repository start a load from a
	// snapshot of the aggregate instead of the stream's first event.
	snapshot *snapshotting[A]
}

// snapshotting is how an aggregate is written to and restored from a
// snapshot (its domain package's encoding, of version schema).
type snapshotting[A any] struct {
	schema int
	encode func(A) ([]byte, error)
	decode func([]byte) (A, error)
}

// repository is what the generic load and update need of a handler set.
type repository struct {
	store      eventstore.Store
	now        func() time.Time
	maxRetries int
	// snapshots, when set, keeps snapshots of the aggregates that have
	// snapshotting; a new one is saved once snapshotEvery events were
	// folded past the one a load started from.
	snapshots     SnapshotStore
	snapshotEvery int
}

// sideEffects lets a command act around its append (the account commands'
// mail outbox): prepare runs before the append of a decision that
// succeeded with events, and its settle is called with the append's
// outcome (true: stored, false: refused; never called when the outcome is
// unknown). afterAppend runs right after a stored append whose prepare
// did something; an error from it ends the command there (a test's crash).
type sideEffects struct {
	prepare     func(ctx context.Context, stream string, data []eventstore.EventData, lastVersion uint64, now time.Time) (settle func(stored bool), acted bool, err error)
	afterAppend func() error
}

// load folds the aggregate's stream, from its snapshot when there is one.
func load[A, E any](ctx context.Context, r repository, kind aggregate[A, E], stream string) (A, error) {
	a, _, err := loadFrom(ctx, r, kind, stream)
	return a, err
}

// errStaleSnapshot: the stream does not hold the event a snapshot followed.
var errStaleSnapshot = errors.New("the snapshot does not follow the stream")

// loadFrom is load, also returning the version its fold started from (the
// snapshot's, or 0).
func loadFrom[A, E any](ctx context.Context, r repository, kind aggregate[A, E], stream string) (A, int, error) {
	fold := func(a A, from uint64, after *Snapshot) (A, error) {
		checked := after == nil
		err := forEachEvent(ctx, r.store, stream, from, func(re eventstore.RecordedEvent) error {
			if !checked {
				checked = true
				if re.Version != uint64(after.Version-1) || re.ID != after.LastEventID {
					return errStaleSnapshot
				}
				return nil // the snapshot's last event, folded in it already
			}
			e, err := kind.decode(re.Type, re.Data)
			if err != nil {
				return fmt.Errorf("decode %s version %d: %w", re.StreamID, re.Version, err)
			}
			kind.apply(a, e)
			return nil
		})
		if err == nil && !checked {
			err = errStaleSnapshot
		}
		return a, err
	}
	if snap, a, ok := readSnapshot(ctx, r, kind, stream); ok {
		a, err := fold(a, uint64(snap.Version-1), &snap)
		if !errors.Is(err, errStaleSnapshot) {
			return a, snap.Version, err
		}
		slog.WarnContext(ctx, "snapshot ignored: it does not follow its stream", "stream", stream, "version", snap.Version)
	}
	a, err := fold(kind.empty(), 0, nil)
	return a, 0, err
}

// readSnapshot returns the stream's usable snapshot and the aggregate it
// restores. A failing store, or a snapshot that does not decode, counts as
// none (logged): snapshots are a cache.
func readSnapshot[A, E any](ctx context.Context, r repository, kind aggregate[A, E], stream string) (Snapshot, A, bool) {
	var zero A
	if r.snapshots == nil || kind.snapshot == nil {
		return Snapshot{}, zero, false
	}
	snap, ok, err := r.snapshots.Load(ctx, stream, kind.snapshot.schema)
	if err != nil {
		slog.WarnContext(ctx, "snapshot not read; folding the whole stream", "stream", stream, "error", err)
		return Snapshot{}, zero, false
	}
	if !ok || snap.Version < 1 {
		return Snapshot{}, zero, false
	}
	a, err := kind.snapshot.decode(snap.Data)
	if err != nil || kind.version(a) != snap.Version {
		slog.WarnContext(ctx, "snapshot ignored: it does not decode", "stream", stream, "version", snap.Version, "error", err)
		return Snapshot{}, zero, false
	}
	return snap, a, true
}

// saveSnapshot keeps a snapshot of a, the state after the event lastID,
// when it is snapshotEvery events past base. A failure is logged: the
// next load folds a few more events.
func saveSnapshot[A, E any](ctx context.Context, r repository, kind aggregate[A, E], stream string, a A, base int, lastID uuid.UUID) {
	if r.snapshots == nil || kind.snapshot == nil || kind.version(a)-base < max(r.snapshotEvery, 1) {
		return
	}
	data, err := kind.snapshot.encode(a)
	if err == nil {
		err = r.snapshots.Save(ctx, Snapshot{Stream: stream, Schema: kind.snapshot.schema, Version: kind.version(a), LastEventID: lastID, Data: data})
	}
	if err != nil {
		slog.WarnContext(ctx, "snapshot not saved", "stream", stream, "version", kind.version(a), "error", err)
	}
}

// update loads the aggregate of stream, lets decide choose events from its
// state and the time now, stamps them with meta and appends them with the
// expected version the load saw. When another writer got there first it
// waits a random, growing moment (so that writers racing for one stream
// spread out) and decides again from the new state, at most r.maxRetries
// times; then it gives up with ErrConflict.
//
// A decision may return events together with an error: the events are
// appended and the error is reported after (a rejected code is recorded,
// and the caller still learns why). No events means nothing to append:
// decide's error, or nil, is returned as is.
func update[A, E any](ctx context.Context, r repository, kind aggregate[A, E], stream string, meta Meta,
	decide func(A, time.Time) ([]E, error), fx sideEffects) (eventstore.Position, error) {
	for attempt := 0; ; attempt++ {
		a, base, err := loadFrom(ctx, r, kind, stream)
		if err != nil {
			return eventstore.Position{}, err
		}
		now := r.now()
		events, derr := decide(a, now)
		if len(events) == 0 {
			return eventstore.Position{}, derr
		}
		data, err := stamp(events, kind.encode, meta, now)
		if err != nil {
			return eventstore.Position{}, err
		}
		version := kind.version(a)
		settle, acted := func(bool) {}, false
		if derr == nil && fx.prepare != nil {
			if settle, acted, err = fx.prepare(ctx, stream, data, uint64(version+len(data)-1), now); err != nil {
				return eventstore.Position{}, err
			}
		}
		res, err := r.store.Append(ctx, stream, expectedFor(version), data...)
		switch {
		case err == nil:
			if acted && fx.afterAppend != nil {
				if err := fx.afterAppend(); err != nil {
					return eventstore.Position{}, err
				}
			}
			settle(true)
			if r.snapshots != nil && kind.snapshot != nil {
				// Decisions never change the aggregate: move it on here.
				for _, e := range events {
					kind.apply(a, e)
				}
				saveSnapshot(ctx, r, kind, stream, a, base, data[len(data)-1].ID)
			}
			return res.Position, derr
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			settle(false)
			if attempt >= r.maxRetries {
				// No id here: the message reaches anonymous callers of verify
				// and reset-confirm, and an id would tell them the account exists.
				return eventstore.Position{}, fmt.Errorf("the %s kept changing: %w", kind.name, ErrConflict)
			}
			if err := eventstore.Backoff(ctx, attempt, 5); err != nil {
				return eventstore.Position{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		default:
			// The outcome may be unknown: prepare's effects are left unsettled
			// (the outbox's relay settles mails by looking for the event).
			return eventstore.Position{}, fmt.Errorf("append to %s: %w: %w", stream, ErrUnavailable, err)
		}
	}
}

// expectedFor is the expected version of an append after version events.
func expectedFor(version int) eventstore.ExpectedVersion {
	if version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(uint64(version - 1))
}

// forEachEvent calls fn with each event of stream from version from on, in
// order (eventstore.StreamEvents). A failed read wraps ErrUnavailable; fn's
// error ends the walk and is returned as is.
func forEachEvent(ctx context.Context, store eventstore.Store, stream string, from uint64, fn func(eventstore.RecordedEvent) error) error {
	for re, err := range eventstore.StreamEvents(ctx, store, stream, from, 0) {
		if err != nil {
			return fmt.Errorf("read %s: %w: %w", stream, ErrUnavailable, err)
		}
		if err := fn(re); err != nil {
			return err
		}
	}
	return nil
}

// readStream reads a whole stream and decodes it with decode.
func readStream[E any](ctx context.Context, store eventstore.Store, stream string, decode func(string, []byte) (E, error)) ([]E, error) {
	var out []E
	err := forEachEvent(ctx, store, stream, 0, func(re eventstore.RecordedEvent) error {
		e, err := decode(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}
