package commands

import (
	"context"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// DataKeys keeps one data key per account, apart from the events (a
// Postgres table in adapters/postgres/datakeys, also when the events live
// in EventStoreDB): the personal fields of the account's events are sealed
// under it, and erasing the account destroys it (crypto-shredding).
// Errors wrap ErrUnavailable when the store fails.
type DataKeys interface {
	// ForWriting returns the account's cipher, making its key on first use;
	// account.ErrAccountErased once the key was destroyed, so that nothing
	// personal is written for an erased account.
	ForWriting(ctx context.Context, accountID string) (account.Cipher, error)
	// ForReading returns the account's cipher, or account.ErasedCipher when
	// its key was destroyed or never made (events from before sealing are
	// plain and read as they are).
	ForReading(ctx context.Context, accountID string) (account.Cipher, error)
	// Destroy destroys the key for good and leaves a tombstone, so that no
	// key is ever made for the account again. Destroying twice is no error.
	Destroy(ctx context.Context, accountID string) error
}

// MailEraser deletes the mail queued for an erased account (the outbox
// in mail/outbox): mail to its address, and mail about its stream's events.
type MailEraser interface {
	// Forget deletes every queued mail to recipient or about an event of
	// stream, and returns how many it deleted.
	Forget(ctx context.Context, recipient, stream string) (int64, error)
}

// PhantomEraser deletes the stand-in account of an address (see
// phantomAccounts), when its owner erases the real one.
type PhantomEraser interface {
	// DeletePhantom deletes the phantom stored under key; none is no error.
	DeletePhantom(ctx context.Context, key []byte) error
}
