package commands_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/adapters/postgres/snapshots"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// insertAccountSQL writes an account straight into es_events (setup
// speed: 101,000 events through the commands would take an hour of
// password hashing): registered and verified, then $3 logins, one a day,
// on the account stream. The downloads follow (insertHistorySQL,
// insertLegacySQL).
const insertAccountSQL = `
INSERT INTO es_events (event_id, stream_id, version, type, data)
SELECT gen_random_uuid(), 'account-' || $1, v, t, d FROM (VALUES
  (0, 'AccountRegistered.v1', jsonb_build_object('account_id', $1::text, 'email', $1::text || '@example.com',
      'password_hash', '$argon2id$bench', 'newsletter', false, 'registered_at', $2::timestamptz)),
  (1, 'AccountVerified.v1', jsonb_build_object('account_id', $1::text, 'at', $2::timestamptz + interval '1 minute'))
) AS e(v, t, d)
UNION ALL
SELECT gen_random_uuid(), 'account-' || $1, 2 + g, 'LoggedIn.v1',
  jsonb_build_object('account_id', $1::text, 'session_id', gen_random_uuid(), 'at', $2::timestamptz + g * interval '1 day' + interval '1 hour')
FROM generate_series(0, $3::int - 1) g`

// downloadsSQL is $4 downloads of the account, one every 15 minutes.
const downloadsSQL = `SELECT g, $2::timestamptz + interval '2 hours' + g * interval '15 minutes' AS at FROM generate_series(0, $4::int - 1) g`

// insertHistorySQL is the account with its downloads in its monthly
// download streams, as the commands write them.
const insertHistorySQL = insertAccountSQL + `
UNION ALL
SELECT gen_random_uuid(), 'downloads-' || $1 || '-' || to_char(at, 'YYYY-MM'),
  row_number() OVER (PARTITION BY to_char(at, 'YYYY-MM') ORDER BY g) - 1, 'VideoDownloaded.v1',
  jsonb_build_object('account_id', $1::text, 'video_id', '0b0f6c4e-6a43-4d0f-9a55-2f3c1b0c2d11', 'format', 'mp4-1080p', 'at', at)
FROM (` + downloadsSQL + `) dl`

// insertLegacySQL is the same history as stored before downloads had
// streams of their own: everything on the account stream.
const insertLegacySQL = insertAccountSQL + `
UNION ALL
SELECT gen_random_uuid(), 'account-' || $1, 2 + $3::int + g, 'VideoDownloaded.v1',
  jsonb_build_object('account_id', $1::text, 'video_id', '0b0f6c4e-6a43-4d0f-9a55-2f3c1b0c2d11', 'format', 'mp4-1080p', 'at', at)
FROM (` + downloadsSQL + `) dl`

func insertHistory(b *testing.B, pool *pgxpool.Pool, sql, id string, logins, downloads int) {
	b.Helper()
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(context.Background(), sql, id, start, logins, downloads); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkNewsletterToggle: each iteration toggles the newsletter of a
// fresh account (registered and verified) and of a heavy one (100,000
// downloads and 1,000 logins), through the commands as serve wires them
// (audit chain, Postgres, snapshots), alternating so that both see the
// same machine load. It reports the median of each and their ratio; the
// target is heavy/fresh ≤ 1.2. For comparison, legacy-ms is the median of
// three toggles on the same history stored as before this design (all on
// the account stream) with no snapshots: what a toggle cost before.
func BenchmarkNewsletterToggle(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b)
	raw := postgres.New(ctx, pool, postgres.Options{})
	b.Cleanup(raw.Close)
	store := audit.NewChainedStore(raw)
	keys, err := datakeys.New(pool, []byte("bench-secret-of-at-least-32-bytes"))
	if err != nil {
		b.Fatal(err)
	}
	accts := newAccountsOn(b, store, sessions.New(pool), phantoms.New(pool),
		func(c *commands.AccountsConfig) { c.Snapshots, c.Keys = snapshots.New(pool), keys }).accounts
	fresh, heavy, legacy := uuid.NewString(), uuid.NewString(), uuid.NewString()
	insertHistory(b, pool, insertHistorySQL, fresh, 0, 0)
	insertHistory(b, pool, insertHistorySQL, heavy, 1000, 100_000)
	insertHistory(b, pool, insertLegacySQL, legacy, 1000, 100_000)
	unsnapshotted := newAccountsOn(b, store, sessions.New(pool), phantoms.New(pool),
		func(c *commands.AccountsConfig) { c.Keys = keys }).accounts
	subscribed := false
	toggle := func(id string) time.Duration {
		start := time.Now()
		if _, err := accts.SetNewsletter(ctx, commands.SetNewsletter{AccountID: id, Subscribed: !subscribed}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// A first command on each: the heavy account's logins, had they come
	// through the commands, would have left a snapshot.
	toggle(fresh)
	toggle(heavy)
	subscribed = !subscribed
	var freshTimes, heavyTimes []time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			freshTimes = append(freshTimes, toggle(fresh))
			heavyTimes = append(heavyTimes, toggle(heavy))
		} else {
			heavyTimes = append(heavyTimes, toggle(heavy))
			freshTimes = append(freshTimes, toggle(fresh))
		}
		subscribed = !subscribed
	}
	b.StopTimer()
	var legacyTimes []time.Duration
	for i := range 3 {
		start := time.Now()
		if _, err := unsnapshotted.SetNewsletter(ctx, commands.SetNewsletter{AccountID: legacy, Subscribed: i%2 == 0}); err != nil {
			b.Fatal(err)
		}
		legacyTimes = append(legacyTimes, time.Since(start))
	}
	b.ReportMetric(float64(median(legacyTimes).Microseconds())/1000, "legacy-ms")
	f, h := median(freshTimes), median(heavyTimes)
	b.ReportMetric(float64(f.Microseconds())/1000, "fresh-ms")
	b.ReportMetric(float64(h.Microseconds())/1000, "heavy-ms")
	b.ReportMetric(float64(h)/float64(f), "heavy/fresh")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
