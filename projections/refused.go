package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// refusedCheckpoint reports a subscription the event store refused for
// good because of the position it was asked to start after: a checkpoint
// this store does not have (one written on another store before a switch
// of EVENT_STORE, or a corrupted row). Subscribing again cannot mend it,
// so the projection stops instead of retrying forever.
func refusedCheckpoint(err error) bool {
	return errors.Is(err, eventstore.ErrInvalidPosition) || errors.Is(err, eventstore.ErrInvalidArgument)
}

// stopAtCheckpoint stops the projection at its checkpoint with a dead
// letter that names the position and the store's refusal. The letter has
// no event (zero event id, empty stream and type): the checkpoint itself
// is what failed. Skip and retry resume at the same checkpoint, which the
// store refuses again; the way out is a read model rebuilt from the start
// of the store in use (`multimedia projections rebuild` brings new tables
// up to the live checkpoint, so it cannot help here).
func (s *storeSubscriber) stopAtCheckpoint(ctx context.Context, name string, pos eventstore.Position, cause error) error {
	msg := fmt.Sprintf("the event store refuses to subscribe after this projection's checkpoint %s: %v; "+
		"the checkpoint is not a position of this store (kept from another event store after switching EVENT_STORE?), "+
		"so the projection cannot continue: its read model must be rebuilt from the start of this store "+
		"(empty its tables and set its checkpoint to 0-0; skip and retry resume at the same refused position)", pos, cause)
	tx, err := s.rt.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: %s: dead letter: %w", name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	cp, err := lockCheckpoint(ctx, tx, name)
	if err != nil {
		return err
	}
	if cp.Position != pos || cp.State == string(StateStopped) {
		return nil // moved or stopped meanwhile: the next delivery decides
	}
	if _, err := tx.Exec(ctx, `INSERT INTO projection_dead_letters
(projection, commit_pos, prepare_pos, event_id, stream_id, event_type, error)
VALUES ($1, $2::numeric, $3::numeric, $4, '', '', $5)`,
		name, u64(pos.Commit), u64(pos.Prepare), uuid.Nil, msg); err != nil {
		return fmt.Errorf("projections: %s: dead letter: %w", name, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE projection_checkpoints SET state = 'stopped', last_error = $2, updated_at = now() WHERE name = $1",
		name, msg); err != nil {
		return fmt.Errorf("projections: %s: stop: %w", name, err)
	}
	if err := notifyProgress(ctx, tx, name, string(StateStopped), pos); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: %s: dead letter commit: %w", name, err)
	}
	s.rt.metrics.deadLetters.WithLabelValues(name).Inc()
	s.rt.metrics.stopped.WithLabelValues(name).Set(1)
	s.rt.cfg.Logger.ErrorContext(ctx, "projection stopped: the event store refuses its checkpoint",
		"projection", name, "position", pos.String(), "error", msg)
	return nil
}
