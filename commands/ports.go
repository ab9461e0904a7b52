package commands

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// PasswordHasher hashes and checks passwords (argon2id in auth/password).
type PasswordHasher interface {
	// Hash returns an encoded hash that carries its own parameters.
	Hash(pw string) (string, error)
	// Verify checks pw against encoded; needsRehash asks for a stronger hash.
	Verify(pw, encoded string) (ok, needsRehash bool, err error)
	// DummyVerify costs what Verify costs, for addresses that have no account.
	DummyVerify(pw string)
}

// Session is one login. The bearer token is never stored, only its SHA-256.
type Session struct {
	ID        string
	AccountID string
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// LoginPosition is where the session's LoggedIn event landed: reads of
	// the session's own profile wait for it (zero for sessions from before
	// it was kept).
	LoginPosition eventstore.Position
}

// SessionStore keeps active sessions (Postgres in adapters/postgres/sessions).
// Every method returns an error wrapping ErrUnavailable when the store fails.
type SessionStore interface {
	Create(ctx context.Context, s Session) error
	// Find returns the unexpired session of tokenHash or ErrUnauthenticated.
	Find(ctx context.Context, tokenHash []byte, now time.Time) (Session, error)
	Delete(ctx context.Context, tokenHash []byte) error
	// EndAll ends every session of the account created at or before
	// before, including one whose row is written after EndAll returns (a
	// login racing a password reset), and forgets its known devices.
	EndAll(ctx context.Context, accountID string, before time.Time) error

	// AddDevice remembers a device that logged in, by its token's hash.
	AddDevice(ctx context.Context, d Device) error
	// UseDevice reports whether tokenHash is a device of accountID that may
	// skip the login delays now: unexpired, not ended by a reset, and with
	// fewer than maxFailures failures. It counts the attempt as a failure
	// up front, in the same statement, so parallel guesses through one
	// token cannot exceed maxFailures; DeviceLoggedIn takes it back.
	UseDevice(ctx context.Context, accountID string, tokenHash []byte, now time.Time, maxFailures int) (bool, error)
	// DeviceLoggedIn clears a device's failures after a successful login.
	DeviceLoggedIn(ctx context.Context, tokenHash []byte) error
}

// Device is a browser or app that logged in to an account: it holds a
// device token (only its SHA-256 is stored) that exempts its logins from
// the delays others' failed logins cause.
type Device struct {
	AccountID string
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PhantomStore keeps the phantom accounts (see phantomAccounts) where every
// instance sees them, across restarts (Postgres in adapters/postgres/phantoms).
type PhantomStore interface {
	// UpdatePhantom locks the phantom under key, passes its stored events
	// (oldest first; none for a new one) to decide and stores the events
	// decide returns after them, in one transaction. It returns decide's
	// error as is (the events are stored all the same), or an error
	// wrapping ErrUnavailable when the store fails.
	//
	// A long history is trimmed: the first PhantomHead events (the
	// registration) and the latest PhantomTail are kept. The rules look
	// back an hour and at 15 consecutive failed logins at most, far inside
	// the tail; only a code asked for before the latest 500 events (a
	// long run of tries without a new code) is forgotten.
	//
	// client is the key of the client that asks (see clientKey): a new
	// phantom is counted against that client's bound.
	UpdatePhantom(ctx context.Context, key, client []byte, decide func(history []PhantomEvent) ([]PhantomEvent, error)) error
}

// How much of a phantom's history PhantomStore keeps (see UpdatePhantom).
const (
	PhantomHead = 2
	PhantomTail = 500
)

// PhantomEvent is one stored event of a phantom account: the account
// domain's type name and JSON payload.
type PhantomEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Snapshot is an aggregate's state folded from the first Version events of
// Stream, encoded by its domain package in the encoding Schema names. It is
// a cache: any snapshot may be dropped at any time (the next command folds
// the stream and writes a new one). An account's snapshot holds personal
// data (address, password hash): it is as sensitive as the events.
type Snapshot struct {
	Stream string
	Schema int
	// Version is how many events the state folds.
	Version int
	// LastEventID is the id of the stream's event Version-1: a snapshot
	// whose event is not the stream's (a store restored or replaced under
	// the cache) is ignored.
	LastEventID uuid.UUID
	Data        []byte
}

// SnapshotStore keeps the latest snapshot of each stream (Postgres in
// package adapters/postgres/snapshots). Errors wrap ErrUnavailable; the
// repository treats a failing store as an empty one.
type SnapshotStore interface {
	// Load returns the stream's snapshot of schema, if there is one.
	Load(ctx context.Context, stream string, schema int) (Snapshot, bool, error)
	// Save keeps s unless a snapshot of the same schema and a higher
	// version is kept already.
	Save(ctx context.Context, s Snapshot) error
	// Drop forgets the stream's snapshots, of every schema (an erased
	// account's, say).
	Drop(ctx context.Context, stream string) error
}
