package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
)

// Message is one plain-text e-mail to a single recipient.
//
// Text may contain secrets (verification codes): it must never be logged.
type Message struct {
	// To is the recipient's address, e.g. "ada@example.com".
	To string
	// Subject is the subject line; it is logged, so it must hold no secret.
	Subject string
	// Text is the plain-text body.
	Text string
	// MessageID is the Message-ID header without its angle brackets
	// ("id@domain"); empty lets the adapter make one. The outbox sets it
	// when it queues the mail, so a re-send keeps it and the recipient's
	// mail program can tell it is the same mail.
	MessageID string
	// Date is the Date header; zero means the time of sending. The outbox
	// sets it to the time the mail was queued.
	Date time.Time
}

// Mailer is the port through which the application sends e-mail.
//
// Send delivers msg to the mail server (for SMTP: the server accepted it) or
// returns an error:
//   - an error wrapping ErrInvalidMessage when msg cannot be sent as it is
//     (empty or malformed recipient, empty subject): retrying cannot help;
//   - an error wrapping ErrRejected when the server refused it permanently
//     (an SMTP 5xx reply): retrying cannot help;
//   - an error wrapping ctx.Err() when ctx ended first;
//   - any other error (connection refused, timeout, an SMTP 4xx reply) is
//     transient: the same Send may succeed later.
//
// Use IsPermanent to tell the two kinds apart. Implementations must be safe
// for concurrent use.
type Mailer interface {
	Send(ctx context.Context, msg Message) error
}

// ErrInvalidMessage is wrapped by the errors of Send and Validate for a
// message that cannot be sent as it is.
var ErrInvalidMessage = errors.New("mail: invalid message")

// ErrRejected is wrapped by the errors of Send when the mail server refused
// the message permanently.
var ErrRejected = errors.New("mail: rejected by the server")

// IsPermanent reports whether err says that sending the same message again
// cannot succeed (it wraps ErrInvalidMessage or ErrRejected).
func IsPermanent(err error) bool {
	return errors.Is(err, ErrInvalidMessage) || errors.Is(err, ErrRejected)
}

// Validate reports every problem of m that makes it unsendable, joined
// (errors.Join); each wraps ErrInvalidMessage. It returns nil for a
// sendable message.
func (m Message) Validate() error {
	var errs []error
	switch to := strings.TrimSpace(m.To); {
	case to == "":
		errs = append(errs, fmt.Errorf("%w: empty recipient", ErrInvalidMessage))
	default:
		addr, err := netmail.ParseAddress(to)
		if err != nil || addr.Name != "" || !strings.Contains(addr.Address, "@") {
			errs = append(errs, fmt.Errorf("%w: recipient is not a bare e-mail address", ErrInvalidMessage))
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		errs = append(errs, fmt.Errorf("%w: empty subject", ErrInvalidMessage))
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		errs = append(errs, fmt.Errorf("%w: subject contains a line break", ErrInvalidMessage))
	}
	if m.MessageID != "" && !validMessageID(m.MessageID) {
		errs = append(errs, fmt.Errorf("%w: Message-ID must be id@domain in printable ASCII without spaces or angle brackets", ErrInvalidMessage))
	}
	return errors.Join(errs...)
}

// RecipientDomain returns the part of addr after its last "@", lower-cased,
// or "" when there is none. It is safe to log.
func RecipientDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(addr[i+1:]))
}

// validMessageID reports whether id is a dot-atom-ish id@domain: printable
// ASCII, one "@" with text on both sides, no space, angle bracket or quote.
func validMessageID(id string) bool {
	at := strings.IndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || strings.Count(id, "@") != 1 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r > '~' || strings.ContainsRune("<>\"\\()[],;:", r) {
			return false
		}
	}
	return true
}
