package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// broadcaster wakes every waiter at once: waiters take the current channel,
// and wakeAll closes it and installs a new one. No wake-up is lost, because a
// waiter takes its channel before it reads.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{ch: make(chan struct{})} }

func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcaster) wakeAll() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// signal runs after every committed append: it wakes this process's
// subscribers at once and asks the notifier to tell other processes.
func (s *Store) signal() {
	s.wake.wakeAll()
	select {
	case s.notify <- struct{}{}:
	default: // a notification is already pending; it covers this append too
	}
}

// notifySQL sends the notification without waiting for a WAL flush: NOTIFY
// takes a transaction id, so its commit would otherwise flush the WAL like
// an append does, an fsync that competes with the appends' own. A
// notification is not durable anyway; the subscribers it wakes read what is
// committed. Two statements without arguments go as one simple query, one
// implicit transaction, so SET LOCAL ends with it. The payload is the
// sending Store's own (self, base32 text, safe to quote), so that its
// listener can ignore it: its own subscribers were woken by signal already,
// and a second wake costs each of them a read that finds nothing.
func notifySQL(self string) string {
	return "SET LOCAL synchronous_commit TO off; SELECT pg_notify('" + NotifyChannel + "', '" + self + "')"
}

// notifier sends NOTIFY outside the appending transactions. NOTIFY inside
// them would take Postgres's global notify lock at every commit and serialise
// the writers; here bursts of appends collapse into one notification.
func (s *Store) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notify:
		}
		if _, err := s.pool.Exec(ctx, s.notifySQL); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "event store: notify failed; subscribers elsewhere fall back to polling", "error", err)
		}
		// Each NOTIFY is a commit of its own: under a stream of appends, send
		// at most one per NotifyInterval. The appends in between are covered
		// by the next one; this process's subscribers were woken directly.
		if !sleep(ctx, s.opts.NotifyInterval) {
			return
		}
	}
}

// listen holds one connection in LISTEN and wakes subscribers on every
// notification, reconnecting with backoff when the connection is lost.
func (s *Store) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		slog.WarnContext(ctx, "event store: listener lost; reconnecting", "error", err, "in", backoff)
		s.wake.wakeAll() // subscribers re-read while we are deaf
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A connection left in LISTEN must not go back to the pool.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == s.self {
			continue
		}
		s.listenerWakes.Add(1)
		s.wake.wakeAll()
	}
}

// Subscribe implements eventstore.Store. When a read comes back short but
// committed events wait above the horizon (an older transaction of this
// database is still open), it looks again after 1, 2, 4 … up to 16 ms, so an
// event becomes visible within milliseconds of the horizon passing it;
// otherwise it sleeps until an append wakes it (or FallbackPoll).
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, handle eventstore.Handler) error {
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1000
	}
	const maxRetry = 16 * time.Millisecond
	pos := after
	retry := time.Duration(0)
	failures := 0
	caughtUp := false
	for {
		woken := s.wake.wait()
		events, err := s.readAll(ctx, pos, maxBatch, caughtUp)
		var held bool
		if err == nil && len(events) < maxBatch {
			last := pos
			if len(events) > 0 {
				last = events[len(events)-1].Position
			}
			held, err = s.heldBack(ctx, last)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, eventstore.ErrUnavailable) || failures >= 5 {
				return err
			}
			failures++
			if !sleep(ctx, time.Duration(failures)*200*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		failures = 0
		caughtUp = len(events) < maxBatch
		if len(events) > 0 {
			if err := checkOrder(pos, events); err != nil {
				return err
			}
			if err := handle(ctx, events); err != nil {
				return err
			}
			pos = events[len(events)-1].Position
			if len(events) == maxBatch {
				continue
			}
		}
		wait := s.opts.FallbackPoll
		if held {
			retry = min(max(retry*2, time.Millisecond), maxRetry)
			wait = retry
		} else {
			retry = 0
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-woken:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// heldBack reports whether committed events after pos exist that the read
// which ended at pos did not return: events above the horizon, which become
// readable as soon as the older transactions holding it end, and events the
// horizon passed between that read and this query. No append will announce
// either, so the subscriber looks again within milliseconds. (It used to
// count only events still above the horizon: one the horizon passed in
// between was then left to the fallback poll, an hour in a test.)
func (s *Store) heldBack(ctx context.Context, pos eventstore.Position) (bool, error) {
	var held bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM es_events WHERE (transaction_id, seq) > ($1::text::xid8, $2))`,
		strconv.FormatUint(pos.Commit, 10), int64(pos.Prepare)).Scan(&held)
	if err != nil {
		return false, unavailable(ctx, "read the horizon", err)
	}
	return held, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// checkOrder refuses to deliver a batch that is not strictly after pos and
// strictly increasing: a reordering must fail loudly, never pass silently.
func checkOrder(pos eventstore.Position, events []eventstore.RecordedEvent) error {
	for _, e := range events {
		if !pos.Less(e.Position) {
			return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable,
				Message: fmt.Sprintf("subscription read %v after %v: refusing to deliver out of order", e.Position, pos)}
		}
		pos = e.Position
	}
	return nil
}
