package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// NotifyChannel is the LISTEN/NOTIFY channel appends signal on.
const NotifyChannel = "es_events"

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// FallbackPoll is how often an idle subscriber looks for events without
	// having been woken (default 1s).
	FallbackPoll time.Duration
	// NotifyInterval is the least time between two NOTIFYs sent to
	// subscribers in other processes (default 5ms).
	NotifyInterval time.Duration
	// MaxAnyRetries bounds the internal retries of an append with expected
	// version Any or StreamExists that lost a race for a version (default 16).
	MaxAnyRetries int
	// MaxConcurrentAppends is how many append statements run at once
	// (default 2). An append that finds them all busy waits and then goes
	// with the others that waited, in one statement and one commit (group
	// commit, see groupcommit.go); 1 groups the most, more overlaps round
	// trips.
	MaxConcurrentAppends int
	// MaxGroup caps the appends in one group commit (default 128).
	MaxGroup int
	// KnownStreams bounds how many streams the Store remembers a stored
	// version of, to append with an exact expected version without looking
	// the stream's version up (default 100,000; see known.go).
	KnownStreams int
}

func (o Options) withDefaults() Options {
	if o.FallbackPoll <= 0 {
		o.FallbackPoll = time.Second
	}
	if o.NotifyInterval <= 0 {
		o.NotifyInterval = 5 * time.Millisecond
	}
	if o.MaxAnyRetries <= 0 {
		o.MaxAnyRetries = 16
	}
	if o.MaxConcurrentAppends <= 0 {
		o.MaxConcurrentAppends = 2
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 128
	}
	if o.KnownStreams <= 0 {
		o.KnownStreams = 100_000
	}
	return o
}

// Store implements eventstore.Store on Postgres. Create it with New and stop
// its background work with Close; the pool stays the caller's.
type Store struct {
	pool *pgxpool.Pool
	// floor is a transaction id below which every transaction has ended,
	// learned from what reads returned (an event of transaction X was below
	// the horizon, so every id up to X has ended). Reads use the greater of
	// it and es_horizon(), which can dip for a moment when it cannot place
	// another database's transaction: so what this Store has read once
	// stays readable, and counts never go backwards.
	floor  atomic.Uint64
	opts   Options
	wake   *broadcaster
	notify chan struct{}
	// self is this Store's NOTIFY payload, random: its listener ignores
	// its own notifications, whose subscribers signal woke already.
	self      string
	notifySQL string
	// listenerWakes counts notifications from other Stores (for tests).
	listenerWakes atomic.Int64
	commits       committer
	known         *knownVersions
	cancel        context.CancelFunc
	done          sync.WaitGroup
}

var _ eventstore.Store = (*Store)(nil)

// New returns a Store on pool and starts its listener and notifier, which run
// until ctx ends or Close is called. The schema must be migrated (see package
// migrations).
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) *Store {
	ctx, cancel := context.WithCancel(ctx)
	s := &Store{
		pool:   pool,
		opts:   opts.withDefaults(),
		wake:   newBroadcaster(),
		notify: make(chan struct{}, 1),
		self:   rand.Text(),
		cancel: cancel,
	}
	s.notifySQL = notifySQL(s.self)
	s.commits.s = s
	s.known = newKnownVersions(s.opts.KnownStreams)
	s.done.Add(2)
	go func() { defer s.done.Done(); s.listen(ctx) }()
	go func() { defer s.done.Done(); s.notifier(ctx) }()
	return s
}

// Close stops the listener and notifier and waits for them.
func (s *Store) Close() {
	s.cancel()
	s.done.Wait()
}

func expectedCode(e eventstore.ExpectedVersion) int64 {
	switch {
	case e.IsNoStream():
		return -2
	case e.IsStreamExists():
		return -3
	}
	if v, ok := e.Exact(); ok {
		return int64(v)
	}
	return -1
}

func wrongVersion(stream string, expected eventstore.ExpectedVersion, actual int64) error {
	cur := "no stream"
	if actual >= 0 {
		cur = "version " + strconv.FormatInt(actual, 10)
	}
	return &eventstore.Error{Code: eventstore.ErrorCodeWrongExpectedVersion, Stream: stream,
		Expected: expected, Actual: actual,
		Message: fmt.Sprintf("append to %q: expected %s, stream is at %s", stream, expected, cur)}
}

func (s *Store) currentVersion(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), -1) FROM es_events WHERE stream_id = $1", stream).Scan(&v)
	if err != nil {
		return 0, unavailable(ctx, fmt.Sprintf("read version of %q", stream), err)
	}
	return v, nil
}

// unavailable wraps a driver error; a cancelled context stays recognisable
// through errors.Is(err, context.Canceled).
func unavailable(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: what, Err: err}
}

func position(tx string, seq int64) (eventstore.Position, error) {
	c, err := strconv.ParseUint(tx, 10, 64)
	if err != nil || seq < 0 {
		return eventstore.Position{}, &eventstore.Error{Code: eventstore.ErrorCodeUnavailable,
			Message: fmt.Sprintf("bad position (%q, %d) in the database", tx, seq), Err: err}
	}
	return eventstore.Position{Commit: c, Prepare: uint64(seq)}, nil
}

const selectColumns = "transaction_id, seq, event_id, stream_id, version, type, data, metadata, recorded_at"

// scanEvents reads rows of selectColumns. With horizon set, each row starts
// with one more column, a transaction id below which every transaction has
// ended, and horizon receives the greatest.
func scanEvents(rows pgx.Rows, limit int, horizon *uint64) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	out := make([]eventstore.RecordedEvent, 0, min(limit, 1024))
	var (
		h       uint64
		seq     int64
		id      [16]byte
		version int64
		data    []byte
		meta    []byte
	)
	dest := []any{nil, &seq, &id, nil, &version, nil, &data, &meta, nil}
	if horizon != nil {
		dest = append([]any{&h}, dest...)
	}
	cols := dest[len(dest)-9:]
	for rows.Next() {
		var e eventstore.RecordedEvent
		cols[0], cols[3], cols[5], cols[8] = &e.Position.Commit, &e.StreamID, &e.Type, &e.RecordedAt
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if seq < 0 {
			return nil, fmt.Errorf("bad position (%d, %d) in the database", e.Position.Commit, seq)
		}
		if horizon != nil && h > *horizon {
			*horizon = h
		}
		e.Position.Prepare = uint64(seq)
		e.ID = uuid.UUID(id)
		e.Version = uint64(version)
		e.Data = json.RawMessage(data)
		e.Metadata = json.RawMessage(meta)
		data, meta = nil, nil
		out = append(out, e)
	}
	return out, rows.Err()
}

func checkLimit(limit int) error {
	if limit < 1 {
		return &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("limit must be at least 1, got %d", limit)}
	}
	return nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, err
	}
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if from > 1<<62 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT "+selectColumns+" FROM es_events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3",
		stream, int64(from), limit)
	if err != nil {
		return nil, unavailable(ctx, fmt.Sprintf("read stream %q", stream), err)
	}
	events, err := scanEvents(rows, limit, nil)
	if err != nil {
		return nil, unavailable(ctx, fmt.Sprintf("read stream %q", stream), err)
	}
	if n := len(events); n > 0 {
		s.known.saw(stream, events[n-1].Version)
	}
	return events, nil
}

// readAllSQL reads only below the transaction-id horizon: every
// transaction of this database with a smaller id has ended, so nothing can
// still appear before the rows returned. It reads in two parts, in order:
// first the events below the Store's floor ($4, a horizon proven earlier);
// then, only when those do not fill the page, the events from the floor
// ($5, $6: the greater of the floor and the reader's position) up to
// GREATEST(es_horizon(), floor). The materialised CTE is evaluated when the
// second part runs, not before. Each row carries the horizon it was read
// under, which becomes the new floor. es_horizon() is not parallel safe, so
// the UNION ALL runs as a plain Append, one part after the other.
const readAllSQL = `WITH h AS MATERIALIZED (SELECT GREATEST(es_horizon(), $4::xid8) AS h)
(SELECT $4::xid8, ` + selectColumns + ` FROM es_events
  WHERE (transaction_id, seq) > ($1::xid8, $2) AND transaction_id < $4::xid8
  ORDER BY transaction_id, seq LIMIT $3)
UNION ALL
(SELECT (SELECT h FROM h), ` + selectColumns + ` FROM es_events
  WHERE (transaction_id, seq) > ($5::xid8, $6) AND transaction_id < (SELECT h FROM h)
  ORDER BY transaction_id, seq LIMIT $3)
LIMIT $3`

// readBelowSQL is a plain keyset read below the floor $4, where every
// transaction has ended: no horizon to compute. A reader behind the floor
// (a catch-up) pages with it; es_horizon() (which reads pg_stat_activity,
// about 0.3 ms) is then paid once at the tail instead of on every page, and
// readAllSQL's two-part plan (about 0.5 µs per row more, measured) only
// there too.
const readBelowSQL = "SELECT " + selectColumns + ` FROM es_events
  WHERE (transaction_id, seq) > ($1::xid8, $2) AND transaction_id < $4::xid8
  ORDER BY transaction_id, seq LIMIT $3`

// horizonFloor is the floor as a query argument.
func (s *Store) horizonFloor() string { return strconv.FormatUint(s.floor.Load(), 10) }

// raiseFloor records that every transaction below xid has ended.
func (s *Store) raiseFloor(xid uint64) {
	for {
		cur := s.floor.Load()
		if xid <= cur || s.floor.CompareAndSwap(cur, xid) {
			return
		}
	}
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return s.readAll(ctx, after, limit, false)
}

// readAll reads a page. Behind the floor it reads below it first, and asks
// for the horizon only when that page comes back short; caughtUp (the
// reader's last page was short, as for a live subscriber) asks at once,
// saving that round trip.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, limit int, caughtUp bool) ([]eventstore.RecordedEvent, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if after.Prepare > 1<<63-1 {
		return nil, &eventstore.Error{Code: eventstore.ErrorCodeInvalidPosition,
			Message: fmt.Sprintf("position %s is not a Postgres event store position", after)}
	}
	floor := s.floor.Load()
	var events []eventstore.RecordedEvent
	if after.Commit < floor && !caughtUp {
		rows, err := s.pool.Query(ctx, readBelowSQL, after.Commit, int64(after.Prepare), limit, floor)
		if err != nil {
			return nil, unavailable(ctx, "read all", err)
		}
		if events, err = scanEvents(rows, limit, nil); err != nil {
			return nil, unavailable(ctx, "read all", err)
		}
		if err := checkOrder(after, events); err != nil {
			return nil, err
		}
		if len(events) == limit {
			return events, nil
		}
		if len(events) > 0 {
			after = events[len(events)-1].Position
		}
	}
	// (floor, 0) is before every event of transaction floor: seq starts at 1.
	above := eventstore.Position{Commit: floor}
	if above.Less(after) {
		above = after
	}
	rows, err := s.pool.Query(ctx, readAllSQL, after.Commit, int64(after.Prepare), limit-len(events), floor, above.Commit, int64(above.Prepare))
	if err != nil {
		return nil, unavailable(ctx, "read all", err)
	}
	horizon := floor
	more, err := scanEvents(rows, limit-len(events), &horizon)
	if err != nil {
		return nil, unavailable(ctx, "read all", err)
	}
	if err := checkOrder(after, more); err != nil {
		return nil, err
	}
	s.raiseFloor(horizon)
	return append(events, more...), nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	var (
		tx  uint64
		seq int64
	)
	err := s.pool.QueryRow(ctx, `SELECT transaction_id, seq FROM es_events
WHERE transaction_id < GREATEST(es_horizon(), $1::text::xid8)
ORDER BY transaction_id DESC, seq DESC LIMIT 1`, s.horizonFloor()).Scan(&tx, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, unavailable(ctx, "read head", err)
	}
	if seq < 0 {
		return eventstore.Position{}, unavailable(ctx, "read head", fmt.Errorf("bad position (%d, %d) in the database", tx, seq))
	}
	s.raiseFloor(tx + 1)
	return eventstore.Position{Commit: tx, Prepare: uint64(seq)}, nil
}
