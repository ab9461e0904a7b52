// Package commands runs the portal's commands: one handler per command, each
// in its own file: the account flows on *Accounts (register.go, verify.go,
// login.go, ...) and the editors' and downloaders' on *Content
// (publish_article.go, publish_video.go, download.go). A handler loads
// the aggregate from its stream, lets the domain decide, and appends the
// resulting events with the expected version, retrying a bounded number of
// times when another writer got there first: that loop is written once,
// generically, in repository.go (load and update, with an aggregate value
// per domain package saying how to fold and encode it), and meta.go's
// stamp is the one place where events get their ids and metadata. Accounts
// load from a snapshot (SnapshotStore) when there is one, so that their
// commands fold only the latest events; downloads are appended to the
// account's download streams (domain/download), never to the account
// stream.
//
// Every event gets metadata: its id, the correlation and causation ids of the
// request, the actor (an account id or "anonymous") and the client IP.
//
// Personal data in an account's events (the address, client tags, the
// metadata's client IP) is sealed under the account's data key, fetched
// through the DataKeys port (privacy_ports.go) for every write: the
// account aggregate's codec seals and opens it, and erase.go destroys the
// key (crypto-shredding); export.go gathers a person's data.
//
// It may import the domain (domain/account, domain/article, domain/video,
// domain/download), the event store port (eventstore), the mail port
// (mail), the application error (apperr: its own errors are *apperr.Error
// values), uuid and the
// standard library. Adapters (the Postgres stores in adapters/postgres,
// mail/smtp and mail/outbox, auth/password's argon2id) come in through the
// interfaces in ports.go and privacy_ports.go, never by import.
package commands
