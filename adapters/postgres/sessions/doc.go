// Package sessions keeps login sessions in Postgres: a table keyed by the
// SHA-256 of the bearer token (the token itself is never stored), with an
// expiry. It implements commands.SessionStore.
//
// Why a table and not a read model: a session check happens on every
// authenticated request and a revocation (logout, password reset) must hold
// at once, not after a projection catches up. The account's stream still
// records LoggedIn and LoggedOut, so the audit trail is complete; losing this
// table only logs everyone out.
//
// It may import commands (for the port and its errors), eventstore (the
// position a session's login landed at), pgx and the standard library;
// only cmd/ (the wiring) and tests import it.
package sessions
