// Package snapshots keeps in Postgres (table snapshots, migration 00055)
// the snapshots of package commands: each stream's latest folded state, a
// cache that lets an account's command fold only the events after it. The
// table can be emptied at any time; commands rebuild what they need. Rows
// hold personal data (an account's address and password hash): Drop
// forgets a stream's rows, for erasure.
//
// It implements commands.SnapshotStore. It may import commands (for the
// port and its errors), pgx and the standard library; only cmd/
// (the wiring) and tests import it.
package snapshots
