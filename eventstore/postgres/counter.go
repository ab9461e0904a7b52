package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
)

var _ eventstore.Counter = (*Store)(nil)

// countAfterSQL counts in the index on (transaction_id, seq) without
// fetching the events, bounded by $3 so a far-behind reader stays cheap.
// It counts every committed event after the position, also those above
// the horizon that readers do not see yet: a transaction held open in the
// database holds them back, and that is lag an operator must see. Nothing
// below a reader's position can commit later (the reader read only below
// the horizon), so the count never includes an event already applied.
const countAfterSQL = `SELECT count(*), min(recorded_at) FROM (
  SELECT recorded_at FROM es_events
  WHERE (transaction_id, seq) > ($1::text::xid8, $2)
  ORDER BY transaction_id, seq
  LIMIT $3) behind`

// CountAfter implements eventstore.Counter.
func (s *Store) CountAfter(ctx context.Context, after eventstore.Position, limit int64) (int64, time.Time, error) {
	if limit < 1 {
		return 0, time.Time{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("limit must be at least 1, got %d", limit)}
	}
	if after.Prepare > 1<<63-1 {
		return 0, time.Time{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidPosition,
			Message: fmt.Sprintf("position %s is not a Postgres event store position", after)}
	}
	var (
		n     int64
		first *time.Time
	)
	err := s.pool.QueryRow(ctx, countAfterSQL, strconv.FormatUint(after.Commit, 10), int64(after.Prepare), limit).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, unavailable(ctx, "count events", err)
	}
	if first == nil {
		return n, time.Time{}, nil
	}
	return n, *first, nil
}
