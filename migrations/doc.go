// Package migrations holds the service's versioned SQL schema, embedded in the
// binary, and applies it with pressly/goose: the event store's tables first,
// then the read models' and the platform's.
//
// It may import the standard library, pgx and goose; nothing of the service.
package migrations
