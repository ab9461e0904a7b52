// Package accounts is the accounts read model (projection "accounts"): one
// row per account with its e-mail (sealed, as the event holds it; the reader
// opens it with the account's data key), status, newsletter choice and key times,
// for GET /api/me. It never stores a password or code hash, and drops an
// account's row when it applies AccountErased.
//
// It may import apperr (the not-found error), the account domain events
// (domain/account), the event
// store port (eventstore), the projections runtime package (projections,
// for Projection and its errors), platform/pgerr (a database that cannot
// serve now) and pgx.
package accounts
