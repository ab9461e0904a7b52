package postgres

import (
	"context"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
)

var _ eventstore.HorizonInspector = (*Store)(nil)

// HorizonWaitingCap bounds the count of events reported waiting behind a
// held horizon.
const HorizonWaitingCap = 100_000

// horizonQueryChars is how much of the holding backend's query is shown.
const horizonQueryChars = 40

// horizonHoldSQL finds the events committed at or above the horizon
// readers use (es_horizon() under this Store's floor) and the backend
// whose transaction is that horizon. Only transactions that have a
// transaction id count: a BEGIN that has only read holds nothing.
const horizonHoldSQL = `WITH h AS (SELECT GREATEST(es_horizon(), $1::text::xid8) AS x),
waiting AS (SELECT count(*) AS n FROM (
  SELECT 1 FROM es_events, h WHERE transaction_id >= h.x LIMIT $2) w)
SELECT waiting.n, a.pid, extract(epoch FROM clock_timestamp() - a.xact_start),
       coalesce(a.state, ''), coalesce(left(a.query, $3), '')
FROM h CROSS JOIN waiting
LEFT JOIN pg_stat_activity a ON a.backend_xid = xid(h.x)
ORDER BY a.xact_start NULLS LAST LIMIT 1`

// HorizonHold implements eventstore.HorizonInspector.
func (s *Store) HorizonHold(ctx context.Context) (eventstore.HorizonHold, bool, error) {
	var (
		n     int64
		pid   *int32
		age   *float64
		state string
		query string
	)
	err := s.pool.QueryRow(ctx, horizonHoldSQL, s.horizonFloor(), HorizonWaitingCap, horizonQueryChars).
		Scan(&n, &pid, &age, &state, &query)
	if err != nil {
		return eventstore.HorizonHold{}, false, unavailable(ctx, "read the horizon", err)
	}
	if n == 0 {
		return eventstore.HorizonHold{}, false, nil
	}
	h := eventstore.HorizonHold{Waiting: n, State: state, Query: query}
	if pid != nil {
		h.PID = int(*pid)
	}
	if age != nil {
		h.Age = time.Duration(*age * float64(time.Second))
	}
	return h, true, nil
}
