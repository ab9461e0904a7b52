package eventstore

import (
	"context"
	"time"
)

// Counter is an optional capability of a Store: counting the events after
// a position without reading them, for lag reports. The Postgres adapter
// has it; callers fall back to ReadAll with a cap when a store has not.
// Find it with AsCounter, which looks through decorators.
type Counter interface {
	// CountAfter returns how many events ReadAll would return after after,
	// counting at most limit, and the recorded time of the first of them
	// (zero when there is none). Errors: ErrInvalidArgument, ErrUnavailable.
	CountAfter(ctx context.Context, after Position, limit int64) (n int64, first time.Time, err error)
}

// Decorator is implemented by a Store that wraps another (audit's hash
// chain), so that optional capabilities of the inner store can be found.
type Decorator interface {
	Unwrap() Store
}

// AsCounter returns the Counter of s or of a store s decorates.
func AsCounter(s Store) (Counter, bool) {
	for s != nil {
		if c, ok := s.(Counter); ok {
			return c, true
		}
		d, ok := s.(Decorator)
		if !ok {
			return nil, false
		}
		s = d.Unwrap()
	}
	return nil, false
}
