// Package esdbtestdouble is a test double of an EventStoreDB / KurrentDB
// node: an in-process gRPC server of the Streams service (Append and Read:
// stream reads, $all reads and $all subscriptions, catch-up then live) and
// of the ServerFeatures service the client asks at connect time, listening on
// 127.0.0.1 without TLS.
//
// It exists because no EventStoreDB server runs where `make test` runs. It is
// built on the client module's own exported protobuf packages, so the real
// client (EventStore-Client-Go/v4) talks to it over real gRPC. It keeps the
// server-side semantics the adapter relies on, as KurrentDB (March 2025
// source) has them:
//   - expected revisions, and re-appends of the same ids: with NoStream or
//     an exact revision checked against the stream itself, forever; with
//     Any or StreamExists only through a bounded cache of recent ids (8 MiB
//     by default, SetIDCacheBytes) that a Restart empties, so late repeats
//     are written again, as on a node; ids are unique per stream only;
//   - v20+ positions: every event is its own record at (LogPos, LogPos);
//     a read or subscription from any other position is refused with
//     InvalidArgument "Trying to read from an invalid position";
//   - the append limit (MaxAppendSize, 1 MiB by default, counted as the
//     server does), refused while the client may still be sending;
//   - soft deletes (DeleteStream) and tombstones (TombstoneStream), with
//     the server's answers for reads and appends afterwards;
//   - injected failures (FailNext): timeouts (before or after writing),
//     not-leader answers naming this node, access denied, invalid argument;
//   - $all order, forward reads from a position inclusive, subscriptions
//     from a position exclusive, event-type and stream filters, system
//     events and foreign events (AppendForeign: $-stream projection
//     results, other applications' non-JSON events).
//
// It keeps everything in memory and forgets it on Close. Not implemented:
// batch append, stream subscriptions, persistent subscriptions,
// projections, links, authentication, scavenging.
//
// Test support only: never import it from production code. It may import
// the client module's protobuf packages, gRPC, uuid and the standard library.
package esdbtestdouble
