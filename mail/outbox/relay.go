package outbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/mail"
)

// Run delivers until ctx ends: Config.Workers goroutines each take one due
// mail at a time (see step), and a sweeper deletes expired mail and refreshes the
// gauges. A delivery under way when ctx ends is finished (bounded by
// SendTimeout); what is left waits in the table for the next relay. Run
// returns nil once everything stopped, or an error when called twice.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("outbox: Run called more than once")
	}
	var wg sync.WaitGroup
	for range o.cfg.Workers {
		wg.Go(func() { o.work(ctx) })
	}
	wg.Go(func() { o.sweep(ctx) })
	o.log.Info("mail relay started", slog.Int("workers", o.cfg.Workers))
	wg.Wait()
	o.log.Info("mail relay stopped")
	return nil
}

// work takes due mail until there is none, then waits for a wake-up or
// the poll interval.
func (o *Outbox) work(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		for ctx.Err() == nil {
			// A step, once begun, runs to its end: a delivery cut off after
			// the server accepted the mail would only send it twice.
			did, err := o.step(context.WithoutCancel(ctx))
			if err != nil {
				o.log.Warn("mail relay: database unavailable, retrying", slog.Any("error", err))
				break
			}
			if !did {
				break
			}
		}
		timer.Reset(o.cfg.PollInterval/2 + rand.N(o.cfg.PollInterval/2+1))
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
	}
}

// row is one mail_outbox row, held by this relay.
type row struct {
	id, messageID string
	kind          mail.Kind
	sealed        []byte
	confirmed     bool
	stream        *string
	eventID       *string
	version       *int64
	attempts      int
	age           time.Duration
}

// lockClass is the first key of the advisory locks that hold mails being
// handled (the second is from the mail's id): "mail" in ASCII.
const lockClass int32 = 0x6d61696c

// lockKey is the second advisory lock key of mail id: random bits of its
// UUID. Two mails sharing one only wait for each other.
func lockKey(id string) int32 {
	u, err := uuid.Parse(id)
	if err != nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(u[12:16]))
}

// step handles the first due mail this relay can hold, if any, and reports
// whether there was one.
//
// A mail is held with a session advisory lock on the worker's connection,
// not a row lock: a transaction left open for an SMTP exchange would hold
// back the event store's read horizon (es_horizon) for every reader. The
// lock goes with the connection when the process dies, and each statement
// runs on its own (autocommit), so nothing is held open but the lock.
func (o *Outbox) step(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, o.stepTimeout())
	defer cancel()
	conn, err := o.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("outbox: connect: %w", err)
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `SELECT id::text FROM mail_outbox
WHERE next_try_at <= now() AND expires_at > now() ORDER BY next_try_at LIMIT $1`, 4*o.cfg.Workers)
	if err != nil {
		return false, fmt.Errorf("outbox: look for due mail: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, fmt.Errorf("outbox: look for due mail: %w", err)
	}
	for _, id := range ids {
		var held bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, lockKey(id)).Scan(&held); err != nil {
			return false, fmt.Errorf("outbox: lock mail %s: %w", id, err)
		}
		if !held {
			continue // another relay handles it
		}
		did, err := o.handle(ctx, conn.Conn(), id)
		o.unlock(ctx, conn.Conn(), id)
		if err != nil || did {
			return true, err
		}
	}
	return false, nil
}

// stepTimeout bounds one step: the SMTP exchange and a few statements.
func (o *Outbox) stepTimeout() time.Duration { return o.cfg.SendTimeout + 5*time.Second }

// unlock releases the advisory lock of id; when it cannot, it closes the
// connection (the pool then drops it), which releases the lock too.
func (o *Outbox) unlock(ctx context.Context, conn *pgx.Conn, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, lockClass, lockKey(id)); err != nil {
		_ = conn.Close(ctx)
	}
}

// handle delivers or resolves the held mail id when it is still there and
// due (another relay may have finished it between the look-up and the
// lock), and reports whether it was.
func (o *Outbox) handle(ctx context.Context, conn *pgx.Conn, id string) (bool, error) {
	var r row
	var kind string
	var ageSeconds float64
	err := conn.QueryRow(ctx, `SELECT id::text, kind, message_id, sealed, confirmed, event_stream, event_id::text,
  event_version, attempts, extract(epoch FROM now() - created_at)::float8
FROM mail_outbox WHERE id = $1 AND next_try_at <= now() AND expires_at > now()`, id).Scan(
		&r.id, &kind, &r.messageID, &r.sealed, &r.confirmed, &r.stream, &r.eventID, &r.version, &r.attempts, &ageSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox: read mail %s: %w", id, err)
	}
	r.kind = mail.Kind(kind)
	r.age = time.Duration(ageSeconds * float64(time.Second))
	if !r.confirmed {
		done, err := o.resolve(ctx, conn, &r)
		if err != nil || done {
			return true, err
		}
	}
	return true, o.deliver(ctx, conn, r)
}

// resolve settles an unconfirmed mail left by its request (a crash between
// queueing and confirming, or an append whose outcome it never learnt) by
// reading the one event it names. It reports done when it is settled for
// now; otherwise the event is stored and the caller delivers.
func (o *Outbox) resolve(ctx context.Context, conn *pgx.Conn, r *row) (done bool, err error) {
	attrs := []any{slog.String("kind", string(r.kind)), slog.String("mail_id", r.id), slog.Duration("age", r.age)}
	events, rerr := o.cfg.Events.ReadStream(ctx, *r.stream, uint64(*r.version), 1)
	switch {
	case rerr != nil:
		o.log.Warn("mail relay: event store unavailable, will look for the event of an unconfirmed mail again", append(attrs, slog.Any("error", rerr))...)
		return true, o.exec(ctx, conn, `UPDATE mail_outbox SET next_try_at = now() + $2 * interval '1 millisecond' WHERE id = $1 AND NOT confirmed`,
			r.id, o.backoff(r.attempts+1).Milliseconds())
	case len(events) == 1 && events[0].ID.String() == *r.eventID:
		if err := o.exec(ctx, conn, `UPDATE mail_outbox SET confirmed = true, attempts = 0 WHERE id = $1`, r.id); err != nil {
			return true, err
		}
		o.log.Info("mail confirmed by the relay: its event is stored", attrs...)
		r.confirmed, r.attempts = true, 0
		return false, nil
	case len(events) == 1:
		if err := o.exec(ctx, conn, `DELETE FROM mail_outbox WHERE id = $1 AND NOT confirmed`, r.id); err != nil {
			return true, err
		}
		o.metrics.dropped.WithLabelValues(string(r.kind), reasonEventNotStore).Inc()
		o.log.Info("mail dropped unsent: the change it reports was never stored", attrs...)
		return true, nil
	case r.age >= o.cfg.ConfirmWithin:
		if err := o.exec(ctx, conn, `DELETE FROM mail_outbox WHERE id = $1 AND NOT confirmed`, r.id); err != nil {
			return true, err
		}
		o.metrics.dropped.WithLabelValues(string(r.kind), reasonEventNotStore).Inc()
		o.log.Warn("mail dropped unsent: its event did not appear in time", append(attrs, slog.Duration("confirm_within", o.cfg.ConfirmWithin))...)
		return true, nil
	default:
		// Not stored yet: its request may still be appending. A Confirm
		// meanwhile makes it due at once (this update spares confirmed rows).
		delay := min(o.cfg.ConfirmGrace<<min(r.attempts, 10), time.Minute)
		return true, o.exec(ctx, conn, `UPDATE mail_outbox SET attempts = attempts + 1, next_try_at = now() + $2 * interval '1 millisecond'
WHERE id = $1 AND NOT confirmed`, r.id, delay.Milliseconds())
	}
}

// deliver sends a confirmed mail and deletes it, or schedules the next try.
func (o *Outbox) deliver(ctx context.Context, conn *pgx.Conn, r row) error {
	attrs := []any{slog.String("kind", string(r.kind)), slog.String("mail_id", r.id), slog.String("message_id", r.messageID)}
	msg, err := o.seal.open(r.id, r.kind, r.messageID, r.sealed)
	if err != nil {
		if err := o.exec(ctx, conn, `DELETE FROM mail_outbox WHERE id = $1`, r.id); err != nil {
			return err
		}
		o.metrics.givenUp.WithLabelValues(string(r.kind), reasonUnsealable).Inc()
		o.log.Error("mail given up", append(attrs, slog.Any("error", err))...)
		return nil
	}
	attrs = append(attrs, slog.String("to_domain", mail.RecipientDomain(msg.To)), slog.String("to_tag", o.seal.tag(msg.To)),
		slog.Int("attempt", r.attempts+1))
	sendCtx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err = o.cfg.Mailer.Send(sendCtx, msg)
	cancel()
	switch {
	case err == nil:
		if o.afterSend != nil {
			o.afterSend(r.id)
		}
		if err := o.exec(ctx, conn, `DELETE FROM mail_outbox WHERE id = $1`, r.id); err != nil {
			o.log.Warn("mail sent but still queued: it will be sent again with the same Message-ID", append(attrs, slog.Any("error", err))...)
			return err
		}
		o.metrics.deliveries.WithLabelValues(string(r.kind)).Inc()
		o.log.Info("mail sent", attrs...)
		if r.attempts > 0 {
			o.pullForward(ctx)
		}
		return nil
	case mail.IsPermanent(err):
		if err := o.exec(ctx, conn, `DELETE FROM mail_outbox WHERE id = $1`, r.id); err != nil {
			return err
		}
		o.metrics.givenUp.WithLabelValues(string(r.kind), reasonRejected).Inc()
		o.log.Error("mail given up: refused for good", append(attrs, slog.Any("error", err))...)
		return nil
	default:
		delay := o.backoff(r.attempts + 1)
		if err := o.exec(ctx, conn, `UPDATE mail_outbox SET attempts = attempts + 1, next_try_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
			r.id, delay.Milliseconds()); err != nil {
			return err
		}
		o.metrics.failures.WithLabelValues(string(r.kind)).Inc()
		o.log.Warn("mail delivery failed: retrying", append(attrs, slog.Duration("retry_in", delay), slog.Any("error", err))...)
		return nil
	}
}

// exec runs one statement on its own.
func (o *Outbox) exec(ctx context.Context, conn *pgx.Conn, sql string, args ...any) error {
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// pullForward makes every mail waiting after a failure due now: a success
// after failures says the server is back.
func (o *Outbox) pullForward(ctx context.Context) {
	tag, err := o.pool.Exec(ctx, `UPDATE mail_outbox SET next_try_at = now()
WHERE confirmed AND attempts > 0 AND next_try_at > now()`)
	if err != nil {
		o.log.Warn("mail relay: could not bring waiting mail forward", slog.Any("error", err))
		return
	}
	if n := tag.RowsAffected(); n > 0 {
		o.log.Info("mail server reachable again: waiting mail brought forward", slog.Int64("count", n))
		for range o.cfg.Workers {
			o.Wake()
		}
	}
}

// backoff is the pause after failed attempt n (1-based): BaseBackoff
// doubled n-1 times, capped at MaxBackoff, jittered into [d/2, d].
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.BaseBackoff
	for i := 1; i < n && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// sweep deletes expired mail and refreshes the gauges every SweepInterval.
func (o *Outbox) sweep(ctx context.Context) {
	t := time.NewTicker(o.cfg.SweepInterval)
	defer t.Stop()
	for {
		if err := o.expire(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("mail relay: could not delete expired mail", slog.Any("error", err))
		}
		if err := o.refreshGauges(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("mail relay: could not measure the queue", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expire deletes mail whose content expired, logging and counting each.
func (o *Outbox) expire(ctx context.Context) error {
	// A relay takes only unexpired mail and is done with it within
	// stepTimeout; past that, nobody is sending an expired one.
	rows, err := o.pool.Query(ctx, `DELETE FROM mail_outbox WHERE id IN (
  SELECT id FROM mail_outbox WHERE expires_at <= now() - $1 * interval '1 millisecond'
  ORDER BY expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
RETURNING id::text, kind, message_id, confirmed, attempts, extract(epoch FROM now() - created_at)::float8`,
		o.stepTimeout().Milliseconds())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, kind, messageID string
		var confirmed bool
		var attempts int
		var age float64
		if err := rows.Scan(&id, &kind, &messageID, &confirmed, &attempts, &age); err != nil {
			return err
		}
		attrs := []any{slog.String("kind", kind), slog.String("mail_id", id), slog.String("message_id", messageID),
			slog.Int("attempts", attempts), slog.Duration("age", time.Duration(age*float64(time.Second)))}
		if confirmed {
			o.metrics.givenUp.WithLabelValues(kind, reasonExpired).Inc()
			o.log.Error("mail given up: its content expired before any delivery succeeded", attrs...)
		} else {
			o.metrics.dropped.WithLabelValues(kind, reasonEventNotStore).Inc()
			o.log.Warn("mail dropped unsent: its content expired before its event appeared", attrs...)
		}
	}
	return rows.Err()
}

// refreshGauges measures the queue: depth by kind and state, and the age
// of the oldest ready mail.
func (o *Outbox) refreshGauges(ctx context.Context) error {
	rows, err := o.pool.Query(ctx, `SELECT kind, confirmed, count(*),
  extract(epoch FROM now() - min(created_at))::float8
FROM mail_outbox GROUP BY kind, confirmed`)
	if err != nil {
		return err
	}
	defer rows.Close()
	depth := map[[2]string]float64{}
	oldest := 0.0
	for rows.Next() {
		var kind string
		var confirmed bool
		var n int64
		var age float64
		if err := rows.Scan(&kind, &confirmed, &n, &age); err != nil {
			return err
		}
		state := "unconfirmed"
		if confirmed {
			state = "ready"
			oldest = max(oldest, age)
		}
		depth[[2]string{kind, state}] = float64(n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range mail.Kinds {
		for _, s := range []string{"ready", "unconfirmed"} {
			depth[[2]string{string(k), s}] += 0
		}
	}
	o.metrics.depth.Reset()
	for k, n := range depth {
		o.metrics.depth.WithLabelValues(k[0], k[1]).Set(n)
	}
	o.metrics.oldestAge.Set(oldest)
	return nil
}
