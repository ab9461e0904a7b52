package content

import (
	"fmt"

	"github.com/multimedia-portal/multimedia/platform/pgerr"
)

// queryError wraps a failed read-model query as "content: what: err". A
// failure of the database rather than of the query (unreachable, gone,
// shutting down, out of connections, lost mid-query) also carries the
// application error code apperr.Unavailable (pgerr.Mark), so the HTTP layer
// answers 503 instead of 500, as it does when the event store itself is
// down.
func queryError(what string, err error) error {
	return fmt.Errorf("content: %s: %w", what, pgerr.Mark(err))
}
