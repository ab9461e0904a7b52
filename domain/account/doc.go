// Package account holds the account aggregate of the multimedia portal: its
// events, the value objects it is made of (normalised e-mail addresses,
// verification codes), the password policy shown on the sign-up page, the
// rules for codes, logins, the newsletter and downloads, and the domain errors
// those rules produce.
//
// The package decides; it never does I/O. It may import the standard library,
// domain/internal/eventcodec (the event codec shared with the other domain
// packages), domain/internal/field (the UUID check), domain/download (its
// VideoDownloaded decodes from account streams written before downloads
// had streams of their own) and, as the one departure from "the domain
// imports the standard library only" (docs/ARCHITECTURE.md),
// github.com/rivo/uniseg:
// the password rule counts characters as a person sees them (grapheme
// clusters, Unicode UAX #29), which the standard library cannot, and a
// well-kept pure-Go library beats a hand-written segmenter. Time is always
// passed in by the caller (no time.Now), randomness comes from crypto/rand
// only where a secret is created (NewCode), and password
// hashing lives outside (auth/password): the aggregate is given hashes and
// booleans, never plaintext secrets to store.
//
// Decision methods on *Account never mutate it. They return the events to
// append; the caller appends them to the stream "account-<id>" with the
// expected version Account.Version, and may Apply them to move the state on.
package account
