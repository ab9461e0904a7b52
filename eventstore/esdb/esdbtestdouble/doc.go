// Package esdbtestdouble is a test double of an EventStoreDB / KurrentDB
// node: an in-process gRPC server of the Streams service (Append and Read:
// stream reads, $all reads and $all subscriptions, catch-up then live) and
// of the ServerFeatures service the client asks at connect time, listening on
// 127.0.0.1 without TLS.
//
// It exists because no EventStoreDB server runs where `make test` runs. It is
// built on the client module's own exported protobuf packages, so the real
// client (EventStore-Client-Go/v4) talks to it over real gRPC. It keeps the
// server-side semantics the contract suite relies on, as KurrentDB has them:
// expected revisions, idempotent re-append of the same event ids (per stream,
// like the server: an id already stored in another stream is a new event),
// $all order by (commit, prepare) position with events of one append sharing
// a commit position, forward reads from a position inclusive, subscriptions
// from a position exclusive, event-type and stream filters, and system events
// ($-types) in $all. It keeps everything in memory and forgets it on Close.
// Not implemented: deletes, tombstones, batch append, stream subscriptions,
// persistent subscriptions, projections, links, authentication.
//
// Test support only: never import it from production code. It may import
// the client module's protobuf packages, gRPC, uuid and the standard library.
package esdbtestdouble
