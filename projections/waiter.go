package projections

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Waiter gives queries read-your-writes: WaitFor blocks until projections
// reach a position. It listens to the progress notifications projectors send
// at commit, wherever they run, and keeps the latest checkpoint of each
// projection, so waiting costs no query per wake-up.
type Waiter struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu     sync.Mutex
	ready  bool // latest is complete and the listener is connected
	latest map[string]progress
	wake   chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

type progress struct {
	pos     eventstore.Position
	stopped bool
}

// NewWaiter starts the listener, which runs until ctx ends or Close.
func NewWaiter(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) *Waiter {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Waiter{pool: pool, logger: logger, latest: map[string]progress{}, wake: make(chan struct{}),
		cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.listen(ctx)
	}()
	return w
}

// Close stops the listener and waits for it.
func (w *Waiter) Close() {
	w.cancel()
	<-w.done
}

func (w *Waiter) broadcast() {
	close(w.wake)
	w.wake = make(chan struct{})
}

func (w *Waiter) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		w.mu.Lock()
		w.ready = false
		w.broadcast()
		w.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		w.logger.WarnContext(ctx, "projection waiter: listener lost; reconnecting", "error", err, "in", backoff)
		sleep(ctx, backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (w *Waiter) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, w.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+ProgressChannel); err != nil {
		return err
	}
	// Read after LISTEN: a commit between the two is in both or in the
	// notifications; none is lost.
	cps, err := readCheckpoints(ctx, conn, nil)
	if err != nil {
		return err
	}
	w.mu.Lock()
	for name, cp := range cps {
		w.latest[name] = progress{pos: cp.Position, stopped: cp.State == string(StateStopped)}
	}
	w.ready = true
	w.broadcast()
	w.mu.Unlock()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		name, pr, ok := parseProgress(n.Payload)
		if !ok {
			continue
		}
		w.mu.Lock()
		w.latest[name] = pr
		w.broadcast()
		w.mu.Unlock()
	}
}

func parseProgress(payload string) (string, progress, bool) {
	f := strings.Fields(payload)
	if len(f) != 4 {
		return "", progress{}, false
	}
	c, err1 := strconv.ParseUint(f[2], 10, 64)
	p, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return "", progress{}, false
	}
	return f[0], progress{pos: eventstore.Position{Commit: c, Prepare: p}, stopped: f[1] == string(StateStopped)}, true
}

// WaitFor returns nil once every named projection has applied pos. It
// returns an error wrapping ErrStopped as soon as one of them is stopped
// before pos, and one wrapping ErrNotCaughtUp (and ctx's error) when ctx
// ends first; bound the wait with a context deadline.
func (w *Waiter) WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error {
	if pos.IsZero() || len(names) == 0 {
		return nil
	}
	for {
		w.mu.Lock()
		wake, ready := w.wake, w.ready
		snapshot := make(map[string]progress, len(names))
		for _, n := range names {
			snapshot[n] = w.latest[n]
		}
		w.mu.Unlock()
		var fallback <-chan time.Time
		if !ready || stoppedBefore(snapshot, pos) {
			// Listener down, or about to report a stop that a notification
			// in flight may already have lifted: ask the database.
			cps, err := readCheckpoints(ctx, w.pool, names)
			if err == nil {
				for _, n := range names {
					cp := cps[n]
					snapshot[n] = progress{pos: cp.Position, stopped: cp.State == string(StateStopped)}
				}
			}
		}
		if !ready {
			fallback = time.After(200 * time.Millisecond)
		}
		done := true
		for _, n := range names {
			p := snapshot[n]
			if p.pos.Less(pos) {
				if p.stopped {
					return fmt.Errorf("%w: %s is at %s, waiting for %s", ErrStopped, n, p.pos, pos)
				}
				done = false
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			behind := []string{}
			for _, n := range names {
				if snapshot[n].pos.Less(pos) {
					behind = append(behind, n+" at "+snapshot[n].pos.String())
				}
			}
			return fmt.Errorf("%w to %s: %s: %w", ErrNotCaughtUp, pos, strings.Join(behind, ", "), ctx.Err())
		case <-wake:
		case <-fallback:
		}
	}
}

func stoppedBefore(snapshot map[string]progress, pos eventstore.Position) bool {
	for _, p := range snapshot {
		if p.stopped && p.pos.Less(pos) {
			return true
		}
	}
	return false
}
