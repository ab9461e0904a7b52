// Package esdb is the EventStoreDB / KurrentDB adapter of the event store
// port, on the official gRPC client github.com/EventStore/EventStore-Client-Go/v4.
// Choose it with EVENT_STORE=esdb://host:2113?tls=false (or any connection
// string the client understands, cluster gossip included).
//
// Mapping onto the port:
//   - a port stream is an EventStoreDB stream; a version is a stream revision;
//   - a global position is the $all position: Position{Commit, Prepare} holds
//     both numbers whole, so checkpoints lose nothing; on v20+ nodes every
//     event has its own position with Commit == Prepare (its log position);
//   - only the service's events reach the port: ReadAll, Head and Subscribe
//     skip $-streams (the server's own and its projections' results, which
//     carry ordinary types), $-types, streams outside Options.StreamPrefixes
//     (other applications') and events whose data is not JSON; Subscribe asks
//     the server to filter by stream prefix (or by "not $") so foreign events
//     do not even travel; Append refuses $-types and $-streams;
//   - expected versions map to esdb.Any, NoStream, StreamExists and
//     StreamRevision; a refused append becomes eventstore.ErrWrongExpectedVersion
//     with the stream's actual revision. Re-appends of the same ids are
//     recognised forever with NoStream and StreamRevision, but with Any and
//     StreamExists only while the server's 8 MiB id cache holds them;
//   - an append over Options.MaxAppendBytes (the node's MaxAppendSize, 1 MiB
//     by default) is refused before sending, with ErrInvalidArgument naming
//     the size: appends are atomic, so bulk writers split them
//     (eventstore.SplitAppend);
//   - server answers: stream-deleted is ErrStreamDeleted (a tombstone, or
//     StreamExists on a soft-deleted stream; a soft-deleted stream reads as
//     unknown and NoStream recreates it, continuing its revisions), Aborted
//     (server timeout) on an append is ErrOutcomeUnknown, PermissionDenied is
//     ErrPermissionDenied, InvalidArgument is ErrInvalidPosition for a $all
//     position the node does not have and ErrInvalidArgument otherwise,
//     not-leader is retried on the leader the client reconnects to, and the
//     rest is ErrUnavailable.
//
// Subscribe is a catch-up subscription to $all from a checkpoint. When the
// server drops it, or the connection is lost, it subscribes again from the
// last event handed to the handler, with backoff, so the handler sees no gap
// and no duplicate. Refusals no retry can mend (an invalid position, a
// permission) end it with the port's error.
//
// Difference from the Postgres adapter: EventStoreDB keeps event ids unique
// per stream only, so appending an id that is stored in another stream writes
// a new event instead of failing with ErrDuplicateEvent.
//
// Checking against a real node: TestContractOnServer and the tests marked
// for EVENTSTORE_URL run when it names one (see README).
//
// It may import the eventstore port, the EventStore client module, gRPC
// status codes and the standard library; never HTTP, the domain or Postgres.
// The in-process server tests run against lives in esdb/esdbtestdouble.
package esdb
