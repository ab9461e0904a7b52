package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	cancel context.CancelFunc
	done   sync.WaitGroup
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
		cancel: cancel,
	}
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

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	ids := make([][16]byte, len(events))
	types := make([]string, len(events))
	data := make([]string, len(events))
	meta := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
		types[i] = e.Type
		data[i] = string(e.Data)
		if len(e.Metadata) == 0 {
			meta[i] = "{}"
		} else {
			meta[i] = string(e.Metadata)
		}
	}
	exp := expectedCode(expected)
	for attempt := 0; ; attempt++ {
		var (
			next       int64
			tx         string
			seq        int64
			idempotent bool
		)
		err := s.pool.QueryRow(ctx, "SELECT next_version, last_tx, last_seq, idempotent FROM es_append($1, $2, $3, $4, $5, $6)",
			stream, exp, ids, types, data, meta).Scan(&next, &tx, &seq, &idempotent)
		if err == nil {
			pos, perr := position(tx, seq)
			if perr != nil {
				return eventstore.AppendResult{}, perr
			}
			if !idempotent {
				s.signal()
			}
			return eventstore.AppendResult{NextExpectedVersion: uint64(next), Position: pos}, nil
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return eventstore.AppendResult{}, unavailable(ctx, fmt.Sprintf("append to %q", stream), err)
		}
		switch {
		case pgErr.Code == "ES409":
			actual, _ := strconv.ParseInt(pgErr.Detail, 10, 64)
			return eventstore.AppendResult{}, wrongVersion(stream, expected, actual)
		case pgErr.Code == "ESDUP":
			return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeDuplicateEvent, Stream: stream,
				Message: fmt.Sprintf("append to %q: an event id is already stored at another place", stream)}
		case pgErr.Code == "23505" && pgErr.ConstraintName == "es_events_event_id_key" && attempt < s.opts.MaxAnyRetries:
			// A concurrent append of the same ids won; go again to take the
			// idempotent path or report the duplicate.
			continue
		case pgErr.Code == "23505" && pgErr.ConstraintName == "es_events_stream_version_key":
			if (expected.IsAny() || expected.IsStreamExists()) && attempt < s.opts.MaxAnyRetries {
				continue // lost a race for the next version; the condition still holds
			}
			actual, aerr := s.currentVersion(ctx, stream)
			if aerr != nil {
				return eventstore.AppendResult{}, aerr
			}
			return eventstore.AppendResult{}, wrongVersion(stream, expected, actual)
		case pgErr.Code == "22P02" || pgErr.Code == "22023":
			return eventstore.AppendResult{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidEvent, Stream: stream,
				Message: fmt.Sprintf("append to %q: Postgres refused an event: %s", stream, pgErr.Message), Err: err}
		}
		return eventstore.AppendResult{}, unavailable(ctx, fmt.Sprintf("append to %q", stream), err)
	}
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

const selectColumns = "transaction_id::text AS tx_text, seq, event_id, stream_id, version, type, data, metadata, recorded_at"

func scanEvents(rows pgx.Rows, limit int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	out := make([]eventstore.RecordedEvent, 0, min(limit, 1024))
	var (
		tx      string
		seq     int64
		id      [16]byte
		version int64
		data    []byte
		meta    []byte
	)
	for rows.Next() {
		var e eventstore.RecordedEvent
		if err := rows.Scan(&tx, &seq, &id, &e.StreamID, &version, &e.Type, &data, &meta, &e.RecordedAt); err != nil {
			return nil, err
		}
		pos, err := position(tx, seq)
		if err != nil {
			return nil, err
		}
		e.Position = pos
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
	events, err := scanEvents(rows, limit)
	if err != nil {
		return nil, unavailable(ctx, fmt.Sprintf("read stream %q", stream), err)
	}
	return events, nil
}

// readAllSQL reads only below the transaction-id horizon (es_horizon, see
// migrations, or the Store's floor if higher): every transaction of this
// database with a smaller id has ended, so nothing can still appear before
// the rows returned. The text form of the id is aliased so that ORDER BY
// sorts the xid8 column itself, not its text ("10024" < "9986").
const readAllSQL = "SELECT " + selectColumns + ` FROM es_events
WHERE (transaction_id, seq) > ($1::text::xid8, $2)
  AND transaction_id < GREATEST(es_horizon(), $4::text::xid8)
ORDER BY transaction_id, seq
LIMIT $3`

// horizonFloor is the floor as a query argument.
func (s *Store) horizonFloor() string { return strconv.FormatUint(s.floor.Load(), 10) }

// raiseFloor records that transaction xid was below the horizon.
func (s *Store) raiseFloor(xid uint64) {
	for {
		cur := s.floor.Load()
		if xid+1 <= cur || s.floor.CompareAndSwap(cur, xid+1) {
			return
		}
	}
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if after.Prepare > 1<<63-1 {
		return nil, &eventstore.Error{Code: eventstore.ErrorCodeInvalidPosition,
			Message: fmt.Sprintf("position %s is not a Postgres event store position", after)}
	}
	rows, err := s.pool.Query(ctx, readAllSQL, strconv.FormatUint(after.Commit, 10), int64(after.Prepare), limit, s.horizonFloor())
	if err != nil {
		return nil, unavailable(ctx, "read all", err)
	}
	events, err := scanEvents(rows, limit)
	if err != nil {
		return nil, unavailable(ctx, "read all", err)
	}
	if len(events) > 0 {
		s.raiseFloor(events[len(events)-1].Position.Commit)
	}
	return events, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	var (
		tx  string
		seq int64
	)
	err := s.pool.QueryRow(ctx, `SELECT transaction_id::text AS tx_text, seq FROM es_events
WHERE transaction_id < GREATEST(es_horizon(), $1::text::xid8)
ORDER BY transaction_id DESC, seq DESC LIMIT 1`, s.horizonFloor()).Scan(&tx, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, unavailable(ctx, "read head", err)
	}
	head, err := position(tx, seq)
	if err == nil {
		s.raiseFloor(head.Commit)
	}
	return head, err
}
