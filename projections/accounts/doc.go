// Package accounts is the accounts read model (projection "accounts"): one
// row per account with its e-mail, status, newsletter choice and key times,
// for GET /api/me. It never stores a password or code hash.
//
// It may import the account domain events, the event store port, the
// projections runtime package (for Projection and its errors) and pgx.
package accounts
