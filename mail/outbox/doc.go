// Package outbox is the durable mail outbox: a Postgres table (mail_outbox)
// that holds every mail the service sends until an SMTP server accepts it,
// and the relay that delivers from it.
//
// What lives here: Outbox, which implements mail.Queue (Enqueue, Confirm,
// Discard) and runs the relay (Run); Config with its defaults; the sealing
// of queued mail (AES-GCM under a key derived from the server secret);
// the Prometheus metrics.
//
// Guarantees:
//   - a mail is in the table before the request that caused it answers; a
//     mail about an event is queued BEFORE the event is appended, marked
//     unconfirmed, and confirmed after the append. The relay delivers
//     confirmed mail; an unconfirmed row older than Config.ConfirmGrace
//     (left by a crash between the two steps) is resolved by reading the
//     one event it names at the stream version it would have taken:
//     that event → confirm and send; another event there → it was never
//     stored, delete; nothing there yet → look again later, and delete
//     only after Config.ConfirmWithin (far past any request's life) or the
//     content's expiry. So a stored code always gets its mail, and no mail
//     leaves for a change that was not stored, on either event store
//     adapter, without a shared transaction;
//   - each mail is delivered by one relay at a time: a relay holds a
//     session advisory lock keyed by the mail's id for the whole SMTP
//     exchange (pg_try_advisory_lock: others skip it), re-reads the row
//     under the lock and deletes it before letting go; if the process dies
//     mid-delivery the lock goes with its connection and another relay (or
//     the restarted one) sends it again with the same Message-ID, assigned
//     when it was queued. Not a row lock (SELECT ... FOR UPDATE SKIP
//     LOCKED): that needs a transaction open during the SMTP exchange, and
//     an open writing transaction holds back the event store's read
//     horizon (es_horizon) for every reader of the log;
//   - failed deliveries are retried with capped exponential backoff until
//     the content's expiry (a code's expiry; 24 h for notices), then given
//     up with a log line and a counter; a success after failures brings
//     every waiting mail forward, so the end of an outage is noticed within
//     Config.MaxBackoff;
//   - the plaintext (recipient, body with its code) exists only sealed in
//     the row and in memory while it is sent; logs carry the kind, the ids,
//     the recipient's domain and a keyed tag of the address.
//
// Why a table with lock-holding workers rather than Watermill's SQL
// publisher/subscriber or its forwarder: the forwarder is built for
// publishing to a broker in the same SQL transaction as the business
// write, and the event store port here is abstract (EventStoreDB has no
// shared transaction), so the transaction it relies on is not there; the
// mail needs state Watermill's SQL schema does not keep (per-row expiry,
// backoff until a deadline, confirmation by a later event, encryption, a
// Message-ID kept across re-sends), and its offsets-based consumer gives
// at-least-once delivery by consumer group with redelivery on nack, not a
// lock held for exactly the SMTP exchange. A table of a dozen columns
// and three statements says all of it.
//
// It may import the standard library, pgx, prometheus, uuid, the mail package
// (the port and Message) and eventstore (to read the event a mail waits
// for). Only wiring (cmd/) and tests import this package.
package outbox
