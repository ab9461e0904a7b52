// Package mail holds the application's ports for sending e-mail.
//
// What lives here:
//   - Message, the one kind of mail the portal sends: plain text to one
//     recipient (verification and password-reset codes, notices), with a
//     Message-ID and Date that a re-send keeps;
//   - Mailer, the port that adapters implement (see mail/smtp), and the
//     errors it reports (ErrInvalidMessage, ErrRejected; anything else is
//     transient);
//   - Queue, the port of the durable outbox (mail/outbox): Envelope (the
//     message, its Kind, its expiry, and the event it waits for), Enqueue,
//     Confirm and Discard.
//
// Message texts carry secret codes: nothing in this package or its
// adapters logs a body or a full address (only the recipient's domain, a
// keyed tag of the address, the kind and the ids).
//
// It may import the standard library only. Adapters (mail/smtp, mail/outbox) and
// test support (mail/mailpit) import this package, never the other way
// round; domain code does not import it at all.
package mail
