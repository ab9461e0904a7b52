// Package phantoms keeps in Postgres the phantom accounts of package
// commands: the stand-in accounts that let an address without an account
// (and verify on a verified one) answer exactly like a real account, limits
// included. Kept here rather than in one process's memory, every instance
// sees the same counters and a restart forgets nothing, so a caller cannot
// tell real accounts apart by spreading tries over instances or time. Rows
// are keyed by an HMAC of the address (made by commands), trimmed to
// commands.PhantomHead + PhantomTail events and deleted after IdleAfter.
//
// It implements commands.PhantomStore. It may import commands (for the port
// and its errors), pgx and the standard library; only cmd/ (the wiring)
// and tests import it.
package phantoms
