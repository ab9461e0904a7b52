package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/mail"
)

// Outbox queues mail in Postgres and, in Run, delivers it. It implements
// mail.Queue and is safe for concurrent use; several processes may run
// Outboxes on one database.
type Outbox struct {
	cfg     Config
	pool    *pgxpool.Pool
	seal    *sealer
	log     *slog.Logger
	metrics *metrics
	wake    chan struct{}
	running atomic.Bool

	// afterSend, when set (tests only), runs after the SMTP server accepted
	// a mail and before its row is deleted: a crash there re-sends it.
	afterSend func(id string)
}

var _ mail.Queue = (*Outbox)(nil)

// New validates cfg and returns an Outbox. It registers its metrics on
// cfg.Registerer; it delivers nothing until Run.
func New(cfg Config) (*Outbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s, err := newSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	return &Outbox{
		cfg:     cfg,
		pool:    cfg.Pool,
		seal:    s,
		log:     cfg.Logger.With(slog.String("component", "mail.outbox")),
		metrics: newMetrics(cfg.Registerer),
		wake:    make(chan struct{}, cfg.Workers),
	}, nil
}

// Enqueue seals env's message and stores it (see mail.Queue). It assigns
// the Message-ID (<id>@MessageIDDomain) and the Date, kept across re-sends.
// Errors: mail.ErrInvalidMessage (wrapped, every problem joined) for an
// envelope that could never be sent; a database error otherwise.
func (o *Outbox) Enqueue(ctx context.Context, env mail.Envelope) (string, error) {
	if err := validEnvelope(env); err != nil {
		return "", err
	}
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("outbox: id: %w", err)
	}
	id := u.String()
	msg := env.Message
	msg.MessageID = id + "@" + o.cfg.MessageIDDomain
	msg.Date = time.Now().UTC().Truncate(time.Second)
	box, err := o.seal.seal(id, env.Kind, msg)
	if err != nil {
		return "", err
	}
	rtag := o.seal.recipientTag(msg.To)
	if env.After == nil {
		_, err = o.pool.Exec(ctx, `INSERT INTO mail_outbox (id, kind, message_id, sealed, expires_at, confirmed, recipient_tag)
VALUES ($1, $2, $3, $4, $5, true, $6)`, id, string(env.Kind), msg.MessageID, box, env.ExpiresAt, rtag)
	} else {
		_, err = o.pool.Exec(ctx, `INSERT INTO mail_outbox (id, kind, message_id, sealed, expires_at, confirmed,
  event_stream, event_id, event_version, next_try_at, recipient_tag)
VALUES ($1, $2, $3, $4, $5, false, $6, $7, $8, now() + $9 * interval '1 millisecond', $10)`,
			id, string(env.Kind), msg.MessageID, box, env.ExpiresAt,
			env.After.Stream, env.After.EventID, int64(env.After.Version), o.cfg.ConfirmGrace.Milliseconds(), rtag)
	}
	if err != nil {
		return "", fmt.Errorf("outbox: queue a %s mail: %w", env.Kind, err)
	}
	if env.After == nil {
		o.Wake()
	}
	return id, nil
}

func validEnvelope(env mail.Envelope) error {
	errs := []error{env.Message.Validate()}
	if env.Kind == "" {
		errs = append(errs, fmt.Errorf("%w: no kind", mail.ErrInvalidMessage))
	}
	if env.ExpiresAt.IsZero() {
		errs = append(errs, fmt.Errorf("%w: no expiry", mail.ErrInvalidMessage))
	}
	if a := env.After; a != nil {
		if a.Stream == "" {
			errs = append(errs, fmt.Errorf("%w: the event it waits for has no stream", mail.ErrInvalidMessage))
		}
		if _, err := uuid.Parse(a.EventID); err != nil {
			errs = append(errs, fmt.Errorf("%w: the event it waits for has no valid id", mail.ErrInvalidMessage))
		}
		if a.Version > 1<<62 {
			errs = append(errs, fmt.Errorf("%w: event version %d out of range", mail.ErrInvalidMessage, a.Version))
		}
	}
	return errors.Join(errs...)
}

// Confirm marks the mail ready and wakes this process's relay. A mail a
// relay confirmed already (it found the event) is left as it is. Errors:
// mail.ErrNotQueued when there is no such mail; a database error
// otherwise.
func (o *Outbox) Confirm(ctx context.Context, id string) error {
	tag, err := o.pool.Exec(ctx, `UPDATE mail_outbox SET confirmed = true, attempts = 0, next_try_at = now()
WHERE id = $1 AND NOT confirmed`, id)
	if err != nil {
		return fmt.Errorf("outbox: confirm mail %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return o.exists(ctx, id)
	}
	o.Wake()
	return nil
}

// Discard deletes an unconfirmed mail whose event will never be stored.
// Errors as Confirm's.
func (o *Outbox) Discard(ctx context.Context, id string) error {
	tag, err := o.pool.Exec(ctx, `DELETE FROM mail_outbox WHERE id = $1 AND NOT confirmed`, id)
	if err != nil {
		return fmt.Errorf("outbox: discard mail %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return o.exists(ctx, id)
	}
	return nil
}

// Forget deletes every queued mail to recipient (by its keyed tag) or
// about an event of stream, for an erased account; either may be empty.
// It implements commands.MailEraser. A mail a relay is sending at that
// moment may still leave once.
func (o *Outbox) Forget(ctx context.Context, recipient, stream string) (int64, error) {
	var rtag []byte
	if recipient != "" {
		rtag = o.seal.recipientTag(recipient)
	}
	tag, err := o.pool.Exec(ctx, `DELETE FROM mail_outbox WHERE ($1::bytea IS NOT NULL AND recipient_tag = $1)
  OR ($2 <> '' AND event_stream = $2)`, rtag, stream)
	if err != nil {
		return 0, fmt.Errorf("outbox: forget queued mail: %w", err)
	}
	return tag.RowsAffected(), nil
}

// exists returns nil when the row is there (already confirmed),
// mail.ErrNotQueued when it is not.
func (o *Outbox) exists(ctx context.Context, id string) error {
	var ok bool
	if err := o.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_outbox WHERE id = $1)`, id).Scan(&ok); err != nil {
		return fmt.Errorf("outbox: look up mail %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", mail.ErrNotQueued, id)
	}
	return nil
}

// Wake makes an idle relay of this process look for due mail now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}
