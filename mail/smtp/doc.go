// Package smtp is the SMTP adapter of the mail.Mailer port, built on
// github.com/wneessen/go-mail.
//
// What lives here: Config (server address, sender, credentials, STARTTLS
// policy, timeout) with its defaults and validation, and Mailer, which sends
// one mail.Message per SMTP connection and maps failures onto the errors the
// port documents (mail.ErrInvalidMessage, mail.ErrRejected, context errors,
// transient errors).
//
// It may import the standard library, github.com/wneessen/go-mail and the mail
// package. Nothing but wiring code (cmd/) should import this package.
package smtp
