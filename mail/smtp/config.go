package smtp

import (
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero fields of a Config.
const (
	// DefaultAddr is a local Mailpit, the development mail sink.
	DefaultAddr = "127.0.0.1:1025"
	// DefaultFrom is the sender used when Config.From is empty.
	DefaultFrom = "Multimedia Portal <no-reply@localhost>"
	// DefaultTimeout bounds connecting and each SMTP exchange.
	DefaultTimeout = 15 * time.Second
)

// TLSPolicy says whether the connection is upgraded with STARTTLS.
type TLSPolicy int

// The STARTTLS policies. The zero value is TLSAuto.
const (
	// TLSAuto is TLSNone for a loopback host (a local dev sink such as
	// Mailpit) and TLSOpportunistic for any other host.
	TLSAuto TLSPolicy = iota
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic
	// TLSMandatory fails unless STARTTLS succeeds.
	TLSMandatory
	// TLSNone never encrypts.
	TLSNone
)

var tlsPolicyNames = map[TLSPolicy]string{
	TLSAuto:          "auto",
	TLSOpportunistic: "opportunistic",
	TLSMandatory:     "mandatory",
	TLSNone:          "none",
}

// String returns the policy's name as ParseTLSPolicy accepts it.
func (p TLSPolicy) String() string {
	if s, ok := tlsPolicyNames[p]; ok {
		return s
	}
	return "TLSPolicy(" + strconv.Itoa(int(p)) + ")"
}

// ParseTLSPolicy parses "auto" (or ""), "opportunistic", "mandatory" or
// "none", case-insensitively.
func ParseTLSPolicy(s string) (TLSPolicy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return TLSAuto, nil
	}
	for p, name := range tlsPolicyNames {
		if name == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("smtp: unknown TLS policy %q (want auto, opportunistic, mandatory or none)", s)
}

// Config configures a Mailer. Zero fields take the defaults (DefaultAddr,
// DefaultFrom, TLSAuto, DefaultTimeout).
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender, "addr@example.com" or "Name <addr@example.com>".
	From string
	// Username and Password authenticate (SMTP AUTH, mechanism negotiated
	// with the server); both empty means no authentication.
	Username string
	// Password goes with Username. It is never logged.
	Password string
	// TLS is the STARTTLS policy.
	TLS TLSPolicy
	// Timeout bounds connecting and each exchange with the server.
	Timeout time.Duration
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if strings.TrimSpace(c.Addr) == "" {
		c.Addr = DefaultAddr
	}
	if strings.TrimSpace(c.From) == "" {
		c.From = DefaultFrom
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate reports every problem of c as New would use it (defaults
// applied), joined with errors.Join; nil when there is none.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("smtp: Addr %q is not host:port: %w", c.Addr, err))
	} else {
		if host == "" {
			errs = append(errs, fmt.Errorf("smtp: Addr %q has no host", c.Addr))
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("smtp: Addr %q: port must be a number in 1..65535", c.Addr))
		}
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp: From %q is not an e-mail address: %w", c.From, err))
	}
	if c.Username != "" && c.Password == "" {
		errs = append(errs, errors.New("smtp: Username is set but Password is empty"))
	}
	if c.Username == "" && c.Password != "" {
		errs = append(errs, errors.New("smtp: Password is set but Username is empty"))
	}
	if _, ok := tlsPolicyNames[c.TLS]; !ok {
		errs = append(errs, fmt.Errorf("smtp: unknown TLS policy %d", int(c.TLS)))
	} else if c.TLS == TLSNone && c.Username != "" && host != "" && !isLoopback(host) {
		errs = append(errs, fmt.Errorf("smtp: TLS policy none would send the credentials in clear text to %s", host))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("smtp: Timeout %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// effectiveTLS resolves TLSAuto for host.
func (c Config) effectiveTLS(host string) TLSPolicy {
	if c.TLS != TLSAuto {
		return c.TLS
	}
	if isLoopback(host) {
		return TLSNone
	}
	return TLSOpportunistic
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
