// Package projections turns the event log into read models: Postgres tables
// that queries read, rebuilt from the event store at any time.
//
// What lives here: the Projection interface a read model implements; the
// Runtime that feeds every projection from the event store through a
// Watermill router; checkpoints, dead letters, ownership and metrics; the
// operations behind `multimedia projections` (Statuses, Skip, Retry,
// Rebuild); and the Waiter that gives queries read-your-writes
// (?consistent_with=<position>). Read models live in sub-packages
// (projections/accounts); projections/catalog lists them all so that `serve`
// and `project` run the same set.
//
// It may import the domain's event packages, the event store port
// (eventstore, never an adapter), apperr (its errors are *apperr.Error
// values), pgx, Watermill and the Prometheus client.
//
// # Delivery: batches as Watermill messages
//
// Watermill acknowledges one message at a time, and a router handler must
// finish a message before its subscriber may hand over the next one in
// order. Applying one event per message, one transaction per event, caps a
// catch-up at a few thousand events a second; acknowledging messages before
// their transaction commits would break "ack only what is committed". So the
// unit of delivery is a batch: storeSubscriber, a message.Subscriber built
// only on the eventstore.Store port (so it works the same for every
// adapter), turns each run of events the store's catch-up subscription
// yields into one Watermill message. While far behind, runs are full
// (Config.MaxBatch events, and runs read ahead are merged up to that size);
// when live, a run is usually the one event just appended, handed over
// within milliseconds of the store's wake-up. The handler applies the whole
// message in one Postgres transaction together with the checkpoint, and the
// router acks the message only after that commit.
//
// The checkpoint in Postgres, not the ack, is the truth: after a Nack
// (an error after Watermill's retries, a lost connection, a stop) the
// subscriber drops what it had read ahead and subscribes again from the
// committed checkpoint. The handler locks the checkpoint row and skips
// every event at or below it, so a redelivered batch changes nothing:
// at-least-once delivery, effectively-once read models.
//
// Middleware, outermost first: metrics (batch durations, failures),
// dead-lettering, Watermill's Retry with exponential backoff, Watermill's
// Recoverer (a panic becomes an error and is retried). When a batch still
// fails after its retries, the dead-letter step applies its events one by
// one, each in its own transaction, to commit the good prefix and find the
// event that fails; that event goes to projection_dead_letters with its
// error, the projection's state becomes stopped at the position before it,
// and the message is nacked. A stopped projection's subscriber waits until
// Skip or Retry sets it running again. Errors that look transient
// (connection loss, serialisation failures, cancelled contexts) are never
// dead-lettered; they just nack and restart from the checkpoint.
//
// # Ownership
//
// Each projection is applied by one process at a time: the subscriber holds
// a Postgres session advisory lock on a dedicated connection while it
// delivers. Other processes try the lock every Config.TakeoverInterval; when
// the owner dies its connection closes, Postgres releases the lock, and
// another process takes over within that interval.
//
// # Progress and read-your-writes
//
// Every checkpoint commit sends NOTIFY projection_progress (delivered at
// commit). A Waiter listens on its own connection, keeps the latest
// checkpoint of each projection, and wakes WaitFor callers on each change;
// it works whichever process runs the projectors.
//
// # Rebuilds
//
// A projection names its tables (Projection.Tables) and writes them
// unqualified, so Rebuild can build into copies in a scratch schema by
// setting search_path, while queries keep reading the live tables. It then
// takes the checkpoint row lock, applies the few events the live projector
// committed meanwhile, drops the old tables and moves the new ones in, all in
// one transaction.
package projections
