// Package datakeys keeps each account's data key in Postgres (table
// data_keys), apart from the events, whichever event store holds them. A
// key is 32 random bytes, stored wrapped with AES-256-GCM under a key
// derived with HKDF-SHA256 from the server secret (SECRET_KEY), the
// account id bound in as additional data. Destroying a key sets its
// wrapped bytes to NULL and keeps the row as a tombstone, so that no new
// key is ever made for an erased account. It implements commands.DataKeys.
//
// It may import commands (the port and its errors), domain/account (its
// Cipher), github.com/google/uuid, pgx and the standard library.
package datakeys
