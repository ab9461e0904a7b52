package smtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	gomail "github.com/wneessen/go-mail"

	"github.com/multimedia-portal/multimedia/mail"
)

// Mailer sends mail over SMTP, one connection per message. It implements
// mail.Mailer and is safe for concurrent use.
type Mailer struct {
	cfg  Config
	host string
	port int
	tls  TLSPolicy
}

var _ mail.Mailer = (*Mailer)(nil)

// New returns a Mailer for cfg (defaults applied), or cfg.Validate's error.
// It does not connect: the first Send does.
func New(cfg Config) (*Mailer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, portStr, _ := net.SplitHostPort(cfg.Addr)
	port, _ := strconv.Atoi(portStr)
	return &Mailer{cfg: cfg, host: host, port: port, tls: cfg.effectiveTLS(host)}, nil
}

// Config returns the configuration in use (defaults applied).
func (m *Mailer) Config() Config { return m.cfg }

// Send delivers msg: it connects, upgrades with STARTTLS as the policy says,
// authenticates when configured, and hands the message over. ctx bounds the
// whole exchange; Config.Timeout bounds connecting and each exchange.
//
// Errors, as the mail.Mailer port documents: mail.ErrInvalidMessage for an
// unsendable msg, mail.ErrRejected for a permanent (5xx) refusal, ctx.Err()
// when ctx ended first (wrapped together with the SMTP error), anything else
// transient (connection, timeout, 4xx).
func (m *Mailer) Send(ctx context.Context, msg mail.Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	gm := gomail.NewMsg()
	if err := gm.From(m.cfg.From); err != nil {
		return fmt.Errorf("smtp: sender: %w", err) // cannot happen after Validate
	}
	if err := gm.To(msg.To); err != nil {
		return fmt.Errorf("%w: recipient: %w", mail.ErrInvalidMessage, err)
	}
	gm.Subject(msg.Subject)
	gm.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.MessageID != "" {
		gm.SetMessageIDWithValue(msg.MessageID)
	} else {
		gm.SetMessageID()
	}
	if msg.Date.IsZero() {
		gm.SetDate()
	} else {
		gm.SetDateWithValue(msg.Date)
	}

	client, err := gomail.NewClient(m.host, m.options(ctx)...)
	if err != nil {
		return fmt.Errorf("smtp: client: %w", err)
	}
	err = client.DialAndSendWithContext(ctx, gm)
	if err == nil {
		return nil
	}
	domain := mail.RecipientDomain(msg.To)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("smtp: send to @%s via %s: %w: %w", domain, m.cfg.Addr, ctxErr, err)
	}
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return fmt.Errorf("smtp: send to @%s via %s: %w: %w", domain, m.cfg.Addr, mail.ErrRejected, err)
	}
	return fmt.Errorf("smtp: send to @%s via %s: %w", domain, m.cfg.Addr, err)
}

func (m *Mailer) options(ctx context.Context) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(m.port),
		gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithDialContextFunc(abortOnDone(ctx)),
	}
	switch m.tls {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.cfg.Username != "" {
		if m.tls == TLSNone {
			// Only reachable for a loopback host (Validate refuses
			// clear-text credentials to any other): a local dev sink, so
			// PLAIN and LOGIN without TLS are acceptable.
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(
				gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
		} else {
			// The strongest mechanism the server offers; PLAIN and LOGIN
			// only over TLS.
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
		}
		opts = append(opts, gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	return opts
}

// abortOnDone returns a dialer whose connections fail their pending I/O as
// soon as sendCtx ends, so that ctx bounds the whole SMTP exchange and not
// only the dial (go-mail sets its own deadlines from Config.Timeout).
func abortOnDone(sendCtx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(sendCtx, func() { _ = conn.Close() })
		return &stopConn{Conn: conn, stop: stop}, nil
	}
}

// stopConn unregisters its context hook when closed.
type stopConn struct {
	net.Conn
	stop func() bool
}

func (c *stopConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
