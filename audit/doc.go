// Package audit answers auditors: what happened to an account, in what
// order, by whom and from where (History), what the account looked like at
// an instant (StateAsOf), and whether the record was altered (Verify).
//
// Tamper evidence is a hash chain per stream computed above the event store
// port by NewChainedStore, a decorator of eventstore.Store, so that it works
// the same on every adapter: each event's metadata carries "prev_hash" (the
// hash of the stream's previous event, GenesisHash for the first) and "hash",
// the SHA-256 of the previous hash, the stream, the version, the type and the
// canonical JSON (Canonical) of the data and of the metadata without the two
// hash fields. Export and Import move the whole log as JSON lines between
// stores, keeping ids, types, data, metadata and per-stream order, so the
// chain still verifies after a move.
//
// This package may import the standard library, github.com/google/uuid, the
// event store port (eventstore), the account and download domains
// (domain/account, domain/download: an account's history is its account
// stream and its download streams, merged in global order, see
// account_streams.go) and apperr (its errors are *apperr.Error values); it
// never imports adapters or HTTP.
package audit
