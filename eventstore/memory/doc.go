// Package memory is an in-memory adapter of the event store port: a real
// eventstore.Store, not a mock. It keeps the whole log in the process's
// memory and passes the same contract suite (eventstoretest.Run) as the
// Postgres and EventStoreDB adapters: expected versions, atomic
// multi-event appends, idempotent re-appends of the same event ids, the
// port's coded errors, ReadAll from a global position without gaps, and
// subscriptions that catch up and then follow live appends.
//
// It is for code whose behaviour does not depend on a database: command
// tests that would otherwise spend their time in Postgres round trips and
// fsyncs, examples and benchmarks of the domain. Nothing is durable and
// nothing is shared between processes, so `serve` never uses it; tests
// of the Postgres behaviour (transactions, the read horizon, the outbox
// that shares the event store's database) stay on eventstore/postgres.
//
// Its rules follow the Postgres adapter where the port leaves a choice: an
// event id is unique in the whole log (an id stored in another stream is
// ErrDuplicateEvent), empty metadata reads back as {}, and appends have no
// size limit (code that must also run on EventStoreDB keeps under
// eventstore.MaxAppendBytes itself). Data and metadata are kept as the
// bytes given, not normalised as Postgres's jsonb does. A global position
// is Position{Commit: n} for the n-th event of the log (1-based); a
// position with a Prepare part or past the head is not one of this
// store's, and ReadAll, Subscribe and CountAfter refuse it with
// ErrInvalidPosition. The port has no stream deletion, so neither has
// this adapter.
//
// It may import the eventstore port, github.com/google/uuid and the
// standard library; never a database driver, HTTP or the domain.
package memory
