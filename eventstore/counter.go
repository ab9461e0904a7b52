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
	// CountAfter returns how many committed events follow after, counting
	// at most limit, and the oldest recorded time among them (zero when
	// there is none). It counts also the events ReadAll does not return yet
	// because an older open transaction holds them back (see HorizonHold):
	// they are lag all the same. Errors: ErrInvalidArgument, ErrUnavailable.
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
