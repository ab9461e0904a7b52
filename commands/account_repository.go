package commands

import (
	"context"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

// accounts tells the generic repository how to fold and write an account
// under policy, from a snapshot (account.EncodeSnapshot) when there is one.
func accounts(policy account.Policy) aggregate[*account.Account, account.Event] {
	return aggregate[*account.Account, account.Event]{name: "account", decode: account.Decode, encode: account.Encode,
		empty: func() *account.Account { return account.FromHistory(policy, nil) }, apply: (*account.Account).Apply,
		version: (*account.Account).Version,
		snapshot: &snapshotting[*account.Account]{schema: account.SnapshotSchema, encode: account.EncodeSnapshot,
			decode: func(b []byte) (*account.Account, error) { return account.DecodeSnapshot(policy, b) }}}
}

func (h *Accounts) repo() repository {
	return repository{store: h.store, now: h.now, maxRetries: h.maxRetries, snapshots: h.snapshots, snapshotEvery: h.snapshotEvery}
}

// loadAccount folds the account's stream.
func (h *Accounts) loadAccount(ctx context.Context, accountID string) (*account.Account, error) {
	return load(ctx, h.repo(), h.kind, account.StreamID(accountID))
}

// decision is what a command decides given the current account. Returning
// events together with an error appends the events and then reports the
// error (a rejected code is recorded, and the caller still learns why).
type decision func(a *account.Account, now time.Time) ([]account.Event, error)

// update runs decide on the account through the generic update.
//
// mails are the mails a successful decision sends: they are queued in the
// outbox before the append (an error then appends nothing), confirmed
// after it, and discarded when it is refused; when its outcome is unknown
// they are left to the outbox's relay, which looks for the event.
func (h *Accounts) update(ctx context.Context, accountID string, meta Meta, decide decision, mails ...mailFunc) (eventstore.Position, error) {
	var fx sideEffects
	if len(mails) > 0 {
		fx = sideEffects{
			prepare: func(ctx context.Context, stream string, data []eventstore.EventData, lastVersion uint64, now time.Time) (func(bool), bool, error) {
				ref := mail.EventRef{Stream: stream, EventID: data[len(data)-1].ID.String(), Version: lastVersion}
				ids, err := h.queueMails(ctx, mails, now, ref)
				if err != nil {
					return nil, false, err
				}
				settle := func(stored bool) { h.settleMails(ctx, ids, stored) }
				if err := h.faults.check(h.faults.afterQueue); err != nil {
					return nil, false, err
				}
				return settle, len(ids) > 0, nil
			},
			afterAppend: func() error { return h.faults.check(h.faults.afterAppend) },
		}
	}
	return update(ctx, h.repo(), h.kind, account.StreamID(accountID), meta, decide, fx)
}

// lookup finds the account that owns email, through the email claim stream.
// A claim whose account stream was never written (a crash between the two
// appends of Register) counts as no account.
func (h *Accounts) lookup(ctx context.Context, email account.Email) (*account.Account, error) {
	claim, err := h.loadClaim(ctx, email)
	if err != nil {
		return nil, err
	}
	if claim.ClaimedBy() == "" {
		return nil, nil
	}
	a, err := h.loadAccount(ctx, claim.ClaimedBy())
	if err != nil {
		return nil, err
	}
	if !a.Registered() {
		return nil, nil
	}
	return a, nil
}

func (h *Accounts) loadClaim(ctx context.Context, email account.Email) (*account.EmailClaim, error) {
	history, err := readStream(ctx, h.store, email.StreamID(), account.Decode)
	if err != nil {
		return nil, err
	}
	return account.EmailClaimFromHistory(history), nil
}
