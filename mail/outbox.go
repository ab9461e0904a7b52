package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrQueueFull is returned by Outbox.Enqueue when the queue has no room; the
// message is dropped (and counted by Outbox.Dropped).
var ErrQueueFull = errors.New("mail: outbox queue full")

// ErrOutboxClosed is returned by Outbox.Enqueue once the Outbox has begun
// shutting down; the message is dropped (and counted by Outbox.Dropped).
var ErrOutboxClosed = errors.New("mail: outbox closed")

// OutboxConfig configures an Outbox. Zero fields take the defaults shown.
type OutboxConfig struct {
	// QueueSize is the number of messages that may wait (default 256).
	QueueSize int
	// Workers is the number of goroutines sending concurrently (default 1).
	Workers int
	// MaxAttempts is how often one message is tried before it counts as
	// failed (default 5). Permanent errors (IsPermanent) are not retried.
	MaxAttempts int
	// BaseBackoff is the pause after the first failure; it doubles with
	// every further failure, with jitter, up to MaxBackoff (default 200ms).
	BaseBackoff time.Duration
	// MaxBackoff caps the pause between two attempts (default 30s).
	MaxBackoff time.Duration
	// SendTimeout bounds one attempt (default 30s).
	SendTimeout time.Duration
	// DrainTimeout is the grace period given on shutdown to send what is
	// queued or being retried (default 10s).
	DrainTimeout time.Duration
	// Logger receives the Outbox's log lines (default slog.Default()).
	Logger *slog.Logger
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxBackoff < c.BaseBackoff {
		c.MaxBackoff = c.BaseBackoff
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Outbox sends mail off the request path: Enqueue returns at once, and the
// worker goroutines started by Run deliver through the wrapped Mailer,
// retrying transient failures with exponential backoff.
//
// Messages live in memory only: those still queued when the process dies
// are lost. An Outbox is safe for concurrent use; Run may be called once.
type Outbox struct {
	mailer Mailer
	cfg    OutboxConfig
	log    *slog.Logger

	mu     sync.Mutex // guards closed and sending on / closing queue
	closed bool
	queue  chan Message

	running   atomic.Bool
	sent      atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
	abandoned atomic.Uint64
}

// NewOutbox returns an Outbox that delivers through m. Call Run to start it;
// messages enqueued before that wait in the queue.
func NewOutbox(m Mailer, cfg OutboxConfig) *Outbox {
	cfg = cfg.withDefaults()
	return &Outbox{
		mailer: m,
		cfg:    cfg,
		log:    cfg.Logger.With(slog.String("component", "mail.outbox")),
		queue:  make(chan Message, cfg.QueueSize),
	}
}

// Enqueue queues msg for delivery and returns at once, never blocking.
//
// It returns an error wrapping ErrInvalidMessage for a message that cannot
// be sent (counted as failed), ErrQueueFull when the queue has no room and
// ErrOutboxClosed after shutdown began (both counted as dropped). Every such
// case is also logged, so a request handler may ignore the error.
func (o *Outbox) Enqueue(msg Message) error {
	if err := msg.Validate(); err != nil {
		o.failed.Add(1)
		o.log.Error("mail not queued: invalid message", append(msgAttrs(msg), slog.Any("error", err))...)
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		o.dropped.Add(1)
		o.log.Error("mail dropped: outbox closed", msgAttrs(msg)...)
		return ErrOutboxClosed
	}
	select {
	case o.queue <- msg:
		return nil
	default:
		o.dropped.Add(1)
		o.log.Error("mail dropped: outbox queue full", append(msgAttrs(msg), slog.Int("queue_size", o.cfg.QueueSize))...)
		return ErrQueueFull
	}
}

// Send makes an Outbox a Mailer for callers that should not wait for
// delivery: it enqueues msg (see Enqueue) and ignores ctx. A nil error
// means queued, not delivered.
func (o *Outbox) Send(_ context.Context, msg Message) error {
	return o.Enqueue(msg)
}

// Run starts the workers and blocks until ctx ends. Then it stops accepting
// messages, and lets the workers send what is queued or being retried for at
// most DrainTimeout. It returns nil when everything queued was handled (sent,
// or failed for good), an error naming how many messages were abandoned when
// the grace period ran out, and an error at once when called a second time.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("mail: Outbox.Run called more than once")
	}
	// Deliveries outlive ctx by the grace period: they stop on workCtx.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	var wg sync.WaitGroup
	for range o.cfg.Workers {
		wg.Go(func() {
			for msg := range o.queue {
				o.deliver(workCtx, msg)
			}
		})
	}
	o.log.Info("mail outbox started", slog.Int("workers", o.cfg.Workers), slog.Int("queue_size", o.cfg.QueueSize))

	<-ctx.Done()
	o.mu.Lock()
	o.closed = true
	pending := len(o.queue)
	close(o.queue)
	o.mu.Unlock()
	o.log.Info("mail outbox draining", slog.Int("queued", pending), slog.Duration("grace", o.cfg.DrainTimeout))

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(o.cfg.DrainTimeout)
	defer grace.Stop()
	select {
	case <-done:
		o.log.Info("mail outbox stopped", o.counterAttrs()...)
		return nil
	case <-grace.C:
		stopWork()
		<-done
		n := o.abandoned.Load()
		o.log.Error("mail outbox stopped before draining", append(o.counterAttrs(), slog.Uint64("abandoned", n))...)
		return fmt.Errorf("mail: outbox drain exceeded %s: %d message(s) abandoned", o.cfg.DrainTimeout, n)
	}
}

// Sent returns how many messages were delivered.
func (o *Outbox) Sent() uint64 { return o.sent.Load() }

// Failed returns how many messages were given up on: invalid, refused
// permanently, or still failing after MaxAttempts.
func (o *Outbox) Failed() uint64 { return o.failed.Load() }

// Dropped returns how many messages were never tried to the end: the queue
// was full, the Outbox was closed, or shutdown's grace period ran out.
func (o *Outbox) Dropped() uint64 { return o.dropped.Load() }

// Queued returns how many messages wait in the queue now.
func (o *Outbox) Queued() int { return len(o.queue) }

func (o *Outbox) deliver(ctx context.Context, msg Message) {
	attrs := msgAttrs(msg)
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			o.dropped.Add(1)
			o.abandoned.Add(1)
			o.log.Error("mail dropped: shutdown grace period over", append(attrs, slog.Int("attempts", attempt-1))...)
			return
		}
		sendCtx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
		err := o.mailer.Send(sendCtx, msg)
		cancel()
		switch {
		case err == nil:
			o.sent.Add(1)
			o.log.Info("mail sent", append(attrs, slog.Int("attempt", attempt))...)
			return
		case IsPermanent(err):
			o.failed.Add(1)
			o.log.Error("mail failed permanently", append(attrs, slog.Int("attempt", attempt), slog.Any("error", err))...)
			return
		case attempt >= o.cfg.MaxAttempts:
			o.failed.Add(1)
			o.log.Error("mail failed: giving up", append(attrs, slog.Int("attempt", attempt), slog.Any("error", err))...)
			return
		case ctx.Err() != nil:
			continue // shutting down: counted at the top of the loop
		}
		delay := o.backoff(attempt)
		o.log.Warn("mail send failed: retrying", append(attrs, slog.Int("attempt", attempt), slog.Duration("retry_in", delay), slog.Any("error", err))...)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// backoff returns the pause after failed attempt n (1-based): BaseBackoff
// doubled n-1 times, capped at MaxBackoff, then jittered into [d/2, d].
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.BaseBackoff
	for i := 1; i < n && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

func (o *Outbox) counterAttrs() []any {
	return []any{
		slog.Uint64("sent", o.sent.Load()),
		slog.Uint64("failed", o.failed.Load()),
		slog.Uint64("dropped", o.dropped.Load()),
	}
}

// msgAttrs are the log attributes of msg: never the body nor the address.
func msgAttrs(msg Message) []any {
	return []any{
		slog.String("to_domain", RecipientDomain(msg.To)),
		slog.String("to_hash", RecipientHash(msg.To)),
		slog.String("subject", msg.Subject),
	}
}
