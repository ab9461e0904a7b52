package eventstore

import "context"

// AppendResult tells where an append landed.
type AppendResult struct {
	// NextExpectedVersion is the version of the stream's last event after the
	// append; pass Exact(NextExpectedVersion) to append again.
	NextExpectedVersion uint64
	// Position is the global position of the last event appended.
	Position Position
}

// Batch is a run of events delivered to a subscriber, in global order.
type Batch []RecordedEvent

// Handler receives a subscription's events. Returning an error ends the
// subscription with that error; the events of a batch whose handler failed
// count as not delivered.
type Handler func(ctx context.Context, batch Batch) error

// SubscribeOptions tunes a subscription. The zero value is valid.
type SubscribeOptions struct {
	// MaxBatch caps the events in one Handler call (default 1000).
	MaxBatch int
}

// Store is the event store port. Every method honours ctx: a cancelled
// context ends the call promptly and releases its connections.
type Store interface {
	// Append writes events to stream atomically if expected holds.
	// Errors: ErrWrongExpectedVersion (an *Error with Expected and Actual),
	// ErrDuplicateEvent when an id is already stored and this is not an exact
	// re-append, ErrInvalidStream, ErrInvalidEvent, ErrInvalidArgument (also
	// for a batch over the adapter's size limit: MaxAppendBytes on
	// EventStoreDB; split it with SplitAppend where atomicity allows),
	// ErrStreamDeleted (EventStoreDB: a tombstoned stream, or StreamExists
	// on a soft-deleted one), ErrOutcomeUnknown (EventStoreDB: the server
	// timed the append out; it may be stored), ErrPermissionDenied
	// (EventStoreDB ACLs), ErrUnavailable. Postgres returns none of the
	// EventStoreDB-only errors.
	//
	// Re-appends: appending the same ids to the same stream again returns
	// the original result and writes nothing. That is guaranteed with
	// NoStream and Exact, which the store checks against the stream itself.
	// With Any and StreamExists it is best effort on EventStoreDB: the
	// server recognises a repeat only while the ids are in its in-memory
	// cache of recent event ids (8 MiB), so after eviction or a node
	// restart a repeat is written again as new events. Production code
	// therefore appends with NoStream or Exact only; the audit chain turns
	// Any and StreamExists into Exact before they reach an adapter.
	//
	// Event ids are unique per stream on every adapter; the Postgres adapter
	// also refuses an id stored in another stream, EventStoreDB stores it as
	// a new event (eventstoretest.Subject.EventIDsUniquePerStream). Callers
	// draw fresh ids for every event, so only retries reuse them.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)

	// ReadStream returns up to limit events of stream with version >= from,
	// in version order; an unknown stream gives no events and no error.
	// Errors: ErrInvalidStream, ErrInvalidArgument (limit < 1),
	// ErrStreamDeleted (EventStoreDB: a tombstoned stream; a soft-deleted
	// one reads as unknown), ErrPermissionDenied (EventStoreDB),
	// ErrUnavailable.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events strictly after position after, in
	// global order, with no gap: an event not yet returned never appears later
	// at a smaller position. Page by passing the last event's Position.
	// Errors: ErrInvalidArgument, ErrInvalidPosition (a position the store
	// does not have, such as one from another store after switching),
	// ErrPermissionDenied (EventStoreDB), ErrUnavailable.
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// Subscribe delivers every event strictly after position after, in
	// global order, each once: it catches up, then follows live appends. It
	// blocks until ctx ends (returning ctx.Err()), the handler fails
	// (returning its error) or the store fails for good: ErrInvalidPosition
	// when the store refuses after (no retry can mend it),
	// ErrPermissionDenied, or ErrUnavailable when it gives up. Dropped
	// connections and leader changes are retried inside, without gaps or
	// duplicates.
	Subscribe(ctx context.Context, after Position, opts SubscribeOptions, handle Handler) error

	// Head returns the position of the newest event that ReadAll can return
	// now, or Start for an empty log.
	Head(ctx context.Context) (Position, error)
}
