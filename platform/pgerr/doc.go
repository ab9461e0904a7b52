// Package pgerr tells a database that cannot serve now (unreachable, gone,
// shutting down, out of connections, lost mid-query) from a query the
// database rejects, so that read-model readers can answer 503 for the first
// and keep 500 for the second.
//
// It may import pgx's pgconn, apperr (for the unavailable code) and the
// standard library.
package pgerr
