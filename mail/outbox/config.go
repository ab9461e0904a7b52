package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

// MinSecretBytes is the shortest server secret the sealing key may be
// derived from.
const MinSecretBytes = 32

// Config wires an Outbox. Zero durations take the defaults shown.
type Config struct {
	// Pool is the Postgres pool holding mail_outbox (migration 00040).
	Pool *pgxpool.Pool
	// Events reads the event an unconfirmed mail waits for.
	Events StreamReader
	// Mailer delivers (mail/smtp).
	Mailer mail.Mailer
	// Secret is the server secret (SECRET_KEY); the sealing key and the
	// log tag key are derived from it (HKDF-SHA256, own labels), so they
	// differ from the code MAC key made from the same secret.
	Secret []byte
	// MessageIDDomain is the right-hand side of the Message-IDs (the
	// sender's domain), e.g. "multimedia.example".
	MessageIDDomain string
	// Workers is the number of mails delivered at once; each holds one
	// database connection during its SMTP exchange (default 4).
	Workers int
	// PollInterval is how often an idle relay looks for due mail queued
	// by other instances or due again after a failure (default 1s); its
	// own instance's mail wakes it at once.
	PollInterval time.Duration
	// BaseBackoff is the pause after a first failed delivery; it doubles
	// per failure, with jitter, up to MaxBackoff (defaults 1s and 15s).
	BaseBackoff time.Duration
	// MaxBackoff caps the pause, and so how long the end of an outage goes
	// unnoticed.
	MaxBackoff time.Duration
	// SendTimeout bounds one delivery (default 30s).
	SendTimeout time.Duration
	// ConfirmGrace is how long an unconfirmed mail is left to its request
	// before the relay looks for its event (default 5s).
	ConfirmGrace time.Duration
	// ConfirmWithin is how long the relay keeps looking for the event of
	// an unconfirmed mail when nothing is at its version yet (default
	// 30m: far past any request's life, so an append still in flight is
	// never cut off, and as long as a code lives).
	ConfirmWithin time.Duration
	// SweepInterval is how often expired mail is deleted and the queue
	// gauges are refreshed (default 5s).
	SweepInterval time.Duration
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the log lines (default slog.Default()).
	Logger *slog.Logger
}

// StreamReader is the part of the event store port the relay needs.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error)
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	def(&c.PollInterval, time.Second)
	def(&c.BaseBackoff, time.Second)
	def(&c.MaxBackoff, 15*time.Second)
	def(&c.SendTimeout, 30*time.Second)
	def(&c.ConfirmGrace, 5*time.Second)
	def(&c.ConfirmWithin, 30*time.Minute)
	def(&c.SweepInterval, 5*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every problem of c (defaults applied), joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("outbox: Pool is nil"))
	}
	if c.Events == nil {
		errs = append(errs, errors.New("outbox: Events is nil"))
	}
	if c.Mailer == nil {
		errs = append(errs, errors.New("outbox: Mailer is nil"))
	}
	if len(c.Secret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("outbox: Secret must be at least %d bytes", MinSecretBytes))
	}
	if d := c.MessageIDDomain; d == "" || strings.ContainsAny(d, "@<> \t\r\n\"") {
		errs = append(errs, fmt.Errorf("outbox: MessageIDDomain %q must be a domain name", d))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("outbox: Workers %d must be at least 1", c.Workers))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"PollInterval", c.PollInterval}, {"BaseBackoff", c.BaseBackoff}, {"MaxBackoff", c.MaxBackoff},
		{"SendTimeout", c.SendTimeout}, {"ConfirmGrace", c.ConfirmGrace}, {"ConfirmWithin", c.ConfirmWithin},
		{"SweepInterval", c.SweepInterval},
	} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("outbox: %s %s is negative", d.name, d.d))
		}
	}
	if c.MaxBackoff < c.BaseBackoff {
		errs = append(errs, fmt.Errorf("outbox: MaxBackoff %s is below BaseBackoff %s", c.MaxBackoff, c.BaseBackoff))
	}
	if c.ConfirmWithin < c.ConfirmGrace {
		errs = append(errs, fmt.Errorf("outbox: ConfirmWithin %s is below ConfirmGrace %s", c.ConfirmWithin, c.ConfirmGrace))
	}
	return errors.Join(errs...)
}
