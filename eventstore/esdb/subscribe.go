package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// handlerError marks the handler's own failure, which ends Subscribe.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }
func (e handlerError) Unwrap() error { return e.err }

// Subscribe implements eventstore.Store with a catch-up subscription to
// $all that excludes system events. When the server drops it or the
// connection is lost, it subscribes again from the last event the handler
// accepted; events at or before that position are never handed out twice.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, handle eventstore.Handler) error {
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1000
	}
	last := after
	backoff := s.opts.MinBackoff
	for {
		delivered, err := s.subscribeOnce(ctx, &last, maxBatch, handle)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var he handlerError
		if errors.As(err, &he) {
			return he.err
		}
		if perr, ok := permanent(ctx, last, err); ok {
			s.log.Error("esdb: subscription to $all failed for good", "after", last.String(), "error", perr)
			return perr
		}
		if delivered {
			backoff = s.opts.MinBackoff
		}
		s.log.Warn("esdb: subscription to $all dropped; subscribing again", "after", last.String(), "in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, s.opts.MaxBackoff)
	}
}

// subscribeOnce runs one server subscription from *last until it drops, ctx
// ends or the handler fails, moving *last past every batch handled. It
// reports whether it handed anything to the handler.
func (s *Store) subscribeOnce(ctx context.Context, last *eventstore.Position, maxBatch int, handle eventstore.Handler) (bool, error) {
	client, err := s.current()
	if err != nil {
		return false, err
	}
	sub, err := client.SubscribeToAll(ctx, kdb.SubscribeToAllOptions{
		From:   allPosition(*last),
		Filter: s.subscriptionFilter(),
	})
	if err != nil {
		s.renew(client, err)
		return false, fmt.Errorf("subscribe to $all after %s: %w", *last, err)
	}

	events := make(chan *kdb.ResolvedEvent, maxBatch)
	dropped := make(chan error, 1)
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		for {
			se := sub.Recv()
			switch {
			case se.SubscriptionDropped != nil:
				dropped <- se.SubscriptionDropped.Error
				return
			case se.EventAppeared != nil:
				select {
				case events <- se.EventAppeared:
				case <-stop:
					return
				}
			}
			// Checkpoints, caught-up and fell-behind notices carry no event.
		}
	}()
	defer func() {
		close(stop)
		_ = sub.Close()
		reader.Wait()
	}()

	delivered := false
	for {
		var first *kdb.ResolvedEvent
		select {
		case <-ctx.Done():
			return delivered, ctx.Err()
		case err := <-dropped:
			return delivered, fmt.Errorf("subscription to $all dropped: %w", err)
		case first = <-events:
		}
		batch := make(eventstore.Batch, 0, min(maxBatch, 1+len(events)))
		cursor := *last
		add := func(ev *kdb.ResolvedEvent) {
			pos := positionOf(ev)
			if !cursor.Less(pos) && !(cursor.IsZero() && pos.IsZero()) {
				return // already handed out before a resubscription
			}
			cursor = pos
			if s.foreign(ev) {
				return
			}
			batch = append(batch, toRecorded(ev))
		}
		add(first)
	drain:
		for len(batch) < maxBatch {
			select {
			case ev := <-events:
				add(ev)
			default:
				break drain
			}
		}
		if len(batch) == 0 {
			*last = cursor
			continue
		}
		if err := ctx.Err(); err != nil {
			return delivered, err
		}
		if err := handle(ctx, batch); err != nil {
			return delivered, handlerError{err}
		}
		*last, delivered = cursor, true
	}
}
