// Package postgres is the Postgres adapter of the event store port, on pgx v5
// and pgxpool.
//
// Events live in one table, es_events (see migrations/sql). A global position
// is (transaction id, sequence) = eventstore.Position{Commit, Prepare}.
// Readers read only below the oldest running transaction of this database
// (es_horizon(): pg_current_snapshot()'s running transactions minus those
// pg_stat_activity shows in other databases), so an event that commits late
// never appears behind a reader's position: subscriptions neither skip nor
// reorder while many writers append. es_horizon() may dip for a moment
// when it cannot place another database's transaction; each Store keeps the
// highest horizon its reads have proven (a floor), so what it has read
// stays readable and its counts never go backwards. The floor belongs to
// the database the process started on: restart the process after restoring
// the database from a backup. An append is one plain INSERT … SELECT
// that checks the expected version (append.go); es_append, the SQL function,
// answers only what that statement leaves open: a re-append, a duplicate
// id, a wrong version. Appends to different streams that arrive while
// others are in flight share one statement and one commit (group commit,
// groupcommit.go); a lone append never waits. Reads below a horizon an
// earlier read proved skip es_horizon() (readAllSQL). Subscribers wake on
// LISTEN/NOTIFY (and in-process appends wake them directly), with a slow
// fallback poll for the rare case where the horizon moves without an append
// committing.
//
// It may import the eventstore port, pgx and the standard library; never HTTP
// or the domain.
package postgres
