// Package mail holds the application's port for sending e-mail and the
// Outbox that sends it off the request path.
//
// What lives here:
//   - Message, the one kind of mail the portal sends: plain text to one
//     recipient (verification and password-reset codes, notices);
//   - Mailer, the port that adapters implement (see mail/smtp), and the
//     errors it reports (ErrInvalidMessage, ErrRejected; anything else is
//     transient);
//   - Outbox, a bounded in-memory queue with worker goroutines that retry
//     failed sends with exponential backoff and drain on shutdown.
//
// Message texts carry secret codes: nothing in this package logs a body or
// a full address (only the recipient's domain, a short hash of the address,
// and the subject).
//
// Imports: the standard library only. Adapters (mail/smtp) and test support
// (mail/mailpit) import this package, never the other way round; domain code
// does not import it at all.
package mail
