// Package esdb is the EventStoreDB / KurrentDB adapter of the event store
// port, on the official gRPC client github.com/EventStore/EventStore-Client-Go/v4.
// Choose it with EVENT_STORE=esdb://host:2113?tls=false (or any connection
// string the client understands, cluster gossip included).
//
// Mapping onto the port:
//   - a port stream is an EventStoreDB stream; a version is a stream revision;
//   - a global position is the $all position: Position{Commit, Prepare} holds
//     the commit and prepare positions whole, so checkpoints lose nothing;
//   - system events (types beginning with "$", which the server writes for
//     itself) never reach the port: ReadAll and Head skip them, Subscribe
//     asks the server to filter them out, and Append refuses such types;
//   - expected versions map to esdb.Any, NoStream, StreamExists and
//     StreamRevision; a refused append becomes eventstore.ErrWrongExpectedVersion
//     with the stream's actual revision.
//
// Subscribe is a catch-up subscription to $all from a checkpoint. When the
// server drops it, or the connection is lost, it subscribes again from the
// last event handed to the handler, with backoff, so the handler sees no gap
// and no duplicate.
//
// Difference from the Postgres adapter: EventStoreDB keeps event ids unique
// per stream only, so appending an id that is stored in another stream writes
// a new event instead of failing with ErrDuplicateEvent.
//
// It may import the eventstore port, the EventStore client module, gRPC
// status codes and the standard library; never HTTP, the domain or Postgres.
// The in-process server tests run against lives in esdb/esdbtestdouble.
package esdb
