// Package apperr is the service's one application error: Error, a stable
// Code (the "code" of the API's error body) with a message, details and an
// optional wait, returned by commands, queries and audit alike.
//
// The rule, in one place:
//
//   - The layers above the domain (commands, projections' readers, audit,
//     platform/pgerr, httpapi's request checks) return *Error, or wrap one
//     of their *Error values (commands.ErrConflict, ...) with %w.
//   - The domain packages stay pure and keep their sentinel and typed
//     errors (account.ErrWeakPassword, *video.UnknownFormatError, ...);
//     they are given their code, wording and details in exactly one
//     place: the table in domain.go, which From consults. The event store
//     port's error codes are mapped there too.
//   - From turns any error into an *Error; anything it does not know is
//     Internal. httpapi maps a Code to an HTTP status with one table and
//     nothing else; a code's status is the API's promise, a code's
//     message is for people.
//
// A handler that knows which resource a request named may add it as a
// detail (WithDetail) before the error reaches From; that adds context,
// it decides no code.
//
// It may import the standard library, the event store port (eventstore)
// and the domain packages domain/account, domain/article, domain/download
// and domain/video (for the table of their errors).
package apperr
