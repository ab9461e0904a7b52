// Package eventstore is the port through which the rest of the service reads
// and writes events: the one source of truth of the portal.
//
// It defines the Store interface, the values that cross it (EventData,
// RecordedEvent, Position, ExpectedVersion) and the typed errors every adapter
// returns. Adapters live in sub-packages (eventstore/postgres, later
// eventstore/esdb) and prove themselves against the shared contract suite in
// eventstore/eventstoretest.
//
// This package may import only the standard library and github.com/google/uuid.
package eventstore
