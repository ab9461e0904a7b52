// Package pgtest gives tests a real, freshly created and migrated Postgres
// database of their own, on the server named by TEST_DATABASE_URL (which
// `make test` sets; it defaults to the local trust-auth server). Each database
// is dropped when its test ends, so packages and tests never share state.
//
// Test support only: it may import migrations, pgx and the standard library.
package pgtest
