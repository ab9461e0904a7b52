package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// insertAccountsSQL writes accounts $1..$2 of six events each (registered,
// code issued, verified, logged in, login failed, subscribed) straight into
// es_events, as one statement.
const insertAccountsSQL = `INSERT INTO es_events (event_id, stream_id, version, type, data)
SELECT gen_random_uuid(), 'account-' || a.id, e.v, e.type, e.data
FROM (SELECT gen_random_uuid() AS id, g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 second' AS at
      FROM generate_series($1::int, $2::int) g) a
CROSS JOIN LATERAL (VALUES
  (0, 'AccountRegistered.v1', jsonb_build_object('account_id', a.id, 'email', 'u' || a.g || '@example.com',
      'password_hash', '$argon2id$x', 'newsletter', a.g % 2 = 0, 'registered_at', a.at)),
  (1, 'VerificationCodeIssued.v1', jsonb_build_object('account_id', a.id, 'purpose', 'verify_email', 'code_hash', 'h',
      'issued_at', a.at, 'expires_at', a.at + interval '1 hour')),
  (2, 'AccountVerified.v1', jsonb_build_object('account_id', a.id, 'at', a.at + interval '1 minute')),
  (3, 'LoggedIn.v1', jsonb_build_object('account_id', a.id, 'session_id', 's', 'at', a.at + interval '2 minutes')),
  (4, 'LoginFailed.v1', jsonb_build_object('account_id', a.id, 'at', a.at + interval '3 minutes')),
  (5, 'NewsletterSubscribed.v1', jsonb_build_object('account_id', a.id, 'at', a.at + interval '4 minutes'))
) AS e(v, type, data)
ORDER BY a.g, e.v`

// InsertAccounts writes n accounts of six events each (four of them handled
// by the accounts projection), numbered from first, straight into the
// event store's table with one INSERT per 5,000 accounts: far faster than
// appends, for large logs in benchmarks and crash tests. It bypasses the
// audit chain.
func InsertAccounts(tb testing.TB, pool *pgxpool.Pool, first, n int) {
	tb.Helper()
	last := first + n - 1
	for from := first; from <= last; from += 5000 {
		if _, err := pool.Exec(context.Background(), insertAccountsSQL, from, min(from+4999, last)); err != nil {
			tb.Fatalf("insert accounts %d..%d: %v", from, min(from+4999, last), err)
		}
	}
}
