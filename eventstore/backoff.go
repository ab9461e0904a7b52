package eventstore

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff waits a random moment below 1 ms << min(attempt, maxDoublings),
// or until ctx ends (then it returns ctx's error). Writers that lost a race
// for a stream's tail (ErrWrongExpectedVersion) wait apart with it before
// they read and try again, so that they stop colliding; the wait grows
// with each lost race up to the cap.
func Backoff(ctx context.Context, attempt, maxDoublings int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << max(min(attempt, maxDoublings), 0)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
