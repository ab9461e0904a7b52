package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// projector applies one projection's batches.
type projector struct {
	rt    *Runtime
	p     Projection
	name  string
	types map[string]bool
}

func newProjector(rt *Runtime, p Projection) *projector {
	types := map[string]bool{}
	for _, t := range p.EventTypes() {
		types[t] = true
	}
	return &projector{rt: rt, p: p, name: p.Name(), types: types}
}

// handle is the Watermill handler: one batch, one transaction.
func (pr *projector) handle(msg *message.Message) error {
	batch, ok := BatchFromMessage(msg)
	if !ok {
		return fmt.Errorf("projections: %s: message %s carries no events", pr.name, msg.UUID)
	}
	return pr.apply(msg.Context(), batch)
}

// apply commits the batch's events after the checkpoint together with the
// new checkpoint. Events at or below the checkpoint are skipped, which makes
// redelivery harmless.
func (pr *projector) apply(ctx context.Context, batch []eventstore.RecordedEvent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("projections: %s: panic: %v", pr.name, r)
		}
	}()
	tx, err := pr.rt.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: %s: begin: %w", pr.name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	cp, err := lockCheckpoint(ctx, tx, pr.name)
	if err != nil {
		return err
	}
	if cp.State == string(StateStopped) {
		return fmt.Errorf("%w: %s", ErrStopped, pr.name)
	}
	fresh := batch
	for len(fresh) > 0 && !cp.Position.Less(fresh[0].Position) {
		fresh = fresh[1:]
	}
	if len(fresh) == 0 {
		return nil // all applied before: a redelivery
	}
	relevant := make([]eventstore.RecordedEvent, 0, len(fresh))
	for _, e := range fresh {
		if pr.types[e.Type] {
			relevant = append(relevant, e)
		}
	}
	if len(relevant) > 0 {
		if err := pr.p.Apply(ctx, tx, relevant); err != nil {
			return fmt.Errorf("projections: %s: apply %d events (%s..%s): %w", pr.name, len(relevant),
				relevant[0].Position, relevant[len(relevant)-1].Position, err)
		}
	}
	last := fresh[len(fresh)-1]
	if err := advanceCheckpoint(ctx, tx, pr.name, last.Position, len(relevant), last.RecordedAt); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: %s: commit: %w", pr.name, err)
	}
	pr.rt.metrics.applied.WithLabelValues(pr.name).Add(float64(len(relevant)))
	pr.rt.metrics.setPosition(pr.name, last.Position)
	return nil
}

// metricsMiddleware times every batch and counts the failed ones.
func (pr *projector) metricsMiddleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		start := time.Now()
		out, err := h(msg)
		pr.rt.metrics.batch.WithLabelValues(pr.name).Observe(time.Since(start).Seconds())
		if err != nil && msg.Context().Err() == nil {
			pr.rt.metrics.failures.WithLabelValues(pr.name).Inc()
		}
		return out, err
	}
}

// deadLetterMiddleware runs after Watermill's retries gave up. A transient
// failure just nacks (the subscriber starts again from the checkpoint); any
// other failure is isolated to one event, which is dead-lettered.
func (pr *projector) deadLetterMiddleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil || errors.Is(err, ErrStopped) || msg.Context().Err() != nil || transient(err) {
			return out, err
		}
		batch, _ := BatchFromMessage(msg)
		return nil, pr.isolate(msg.Context(), batch, err)
	}
}

// isolate applies the batch one event per transaction, committing the good
// prefix, and dead-letters the first event that still fails.
func (pr *projector) isolate(ctx context.Context, batch []eventstore.RecordedEvent, batchErr error) error {
	log := pr.rt.cfg.Logger.With("projection", pr.name)
	log.WarnContext(ctx, "batch failed after retries; applying its events one by one", "events", len(batch), "error", batchErr)
	for i := range batch {
		err := pr.apply(ctx, batch[i:i+1])
		if err == nil {
			continue
		}
		if errors.Is(err, ErrStopped) || ctx.Err() != nil || transient(err) {
			return err
		}
		if dlErr := pr.deadLetter(ctx, batch[i], err); dlErr != nil {
			return errors.Join(err, dlErr)
		}
		return fmt.Errorf("%w: %s at %s: %w", ErrStopped, pr.name, batch[i].Position, err)
	}
	return nil
}

// deadLetter records the event and its error and stops the projection
// before it, in one transaction.
func (pr *projector) deadLetter(ctx context.Context, e eventstore.RecordedEvent, cause error) error {
	tx, err := pr.rt.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: %s: dead letter: %w", pr.name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	cp, err := lockCheckpoint(ctx, tx, pr.name)
	if err != nil {
		return err
	}
	if !cp.Position.Less(e.Position) {
		return nil // applied meanwhile
	}
	msg := cause.Error()
	if _, err := tx.Exec(ctx, `INSERT INTO projection_dead_letters
(projection, commit_pos, prepare_pos, event_id, stream_id, event_type, error)
VALUES ($1, $2::numeric, $3::numeric, $4, $5, $6, $7)`,
		pr.name, u64(e.Position.Commit), u64(e.Position.Prepare), e.ID, e.StreamID, e.Type, msg); err != nil {
		return fmt.Errorf("projections: %s: dead letter: %w", pr.name, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE projection_checkpoints SET state = 'stopped', last_error = $2, updated_at = now() WHERE name = $1",
		pr.name, msg); err != nil {
		return fmt.Errorf("projections: %s: stop: %w", pr.name, err)
	}
	if err := notifyProgress(ctx, tx, pr.name, string(StateStopped), cp.Position); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: %s: dead letter commit: %w", pr.name, err)
	}
	pr.rt.metrics.deadLetters.WithLabelValues(pr.name).Inc()
	pr.rt.metrics.stopped.WithLabelValues(pr.name).Set(1)
	pr.rt.cfg.Logger.ErrorContext(ctx, "projection stopped at a poison event; run `multimedia projections skip|retry "+pr.name+"`",
		"projection", pr.name, "position", e.Position.String(), "event_id", e.ID, "event_type", e.Type, "stream", e.StreamID, "error", msg)
	return nil
}

// transient reports errors worth retrying forever rather than
// dead-lettering: lost connections, serialisation conflicts, shutdowns.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, eventstore.ErrUnavailable) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "40", "53", "57", "58":
			return true
		}
		return pgErr.Code == "55P03"
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || pgconn.SafeToRetry(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, pgx.ErrTxClosed)
}
