package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy is returned by Gate.Acquire when no hashing slot freed up within
// the gate's wait: the caller should answer 503 with Retry-After.
var ErrBusy = errors.New("password hashing is busy")

// Gate bounds how many argon2id computations run at once. Each one holds
// Params.Memory (19 MiB by default) until it ends, so without a bound 110
// parallel logins took a server from 24 MB to 1.2 GB (issue 10, item 3).
// Callers that find every slot taken queue for at most MaxWait, in arrival
// order as far as the Go scheduler allows, then get ErrBusy.
type Gate struct {
	slots   chan struct{}
	maxWait time.Duration
}

// DefaultSlots is 2 x GOMAXPROCS: enough to keep every core busy while
// others queue, and a memory ceiling of DefaultSlots x Params.Memory.
func DefaultSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// DefaultMaxWait is how long a caller queues for a slot before ErrBusy.
const DefaultMaxWait = 2 * time.Second

// NewGate returns a gate of n slots (n < 1 means DefaultSlots) where
// callers wait at most maxWait (≤ 0 means DefaultMaxWait).
func NewGate(n int, maxWait time.Duration) *Gate {
	if n < 1 {
		n = DefaultSlots()
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Gate{slots: make(chan struct{}, n), maxWait: maxWait}
}

// Slots is the number of computations the gate lets run at once.
func (g *Gate) Slots() int { return cap(g.slots) }

// MaxWait is the longest a caller queues.
func (g *Gate) MaxWait() time.Duration { return g.maxWait }

// Acquire takes a slot, waiting at most MaxWait; release gives it back and
// must be called exactly once. Errors: ErrBusy when the wait ran out, or
// one wrapping ctx's error when ctx ended first.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
	}
	t := time.NewTimer(g.maxWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a password hashing slot: %w", ctx.Err())
	}
}

func (g *Gate) release() { <-g.slots }

// computeSlots is the hard ceiling inside this package: every argon2id
// computation, whoever calls it (HTTP handlers behind their own Gate, the
// seed command, tests), holds one of these while it runs.
var computeSlots = make(chan struct{}, DefaultSlots())

// withComputeSlot runs fn (one argon2id computation) holding a compute slot.
func withComputeSlot(fn func()) {
	computeSlots <- struct{}{}
	defer func() { <-computeSlots }()
	fn()
}
