package commands

import (
	"context"
	"errors"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

// accounts tells the generic repository how to fold and write an account
// under policy, from a snapshot (account.EncodeSnapshot) when there is
// one: its personal fields opened and sealed with c, the account's data
// key (account.Erased where it is destroyed), and its snapshot sealed
// whole under the same key (it holds the address).
func accounts(policy account.Policy, c account.Cipher) aggregate[*account.Account, account.Event] {
	return aggregate[*account.Account, account.Event]{name: "account",
		decode: func(typ string, data []byte) (account.Event, error) { return account.DecodeOpened(typ, data, c) },
		encode: func(e account.Event) (string, []byte, error) { return account.EncodeSealed(e, c) },
		empty:  func() *account.Account { return account.FromHistory(policy, nil) }, apply: (*account.Account).Apply,
		version: (*account.Account).Version,
		snapshot: &snapshotting[*account.Account]{schema: account.SnapshotSchema,
			encode: func(a *account.Account) ([]byte, error) {
				b, err := account.EncodeSnapshot(a)
				if err != nil {
					return nil, err
				}
				sealed, err := c.Seal(string(b))
				return []byte(sealed), err
			},
			decode: func(b []byte) (*account.Account, error) {
				plain, err := c.Open(string(b))
				if err != nil {
					return nil, err
				}
				if !account.IsSealed(string(b)) || plain == account.Erased {
					return nil, errors.New("the snapshot is not sealed under the account's key")
				}
				return account.DecodeSnapshot(policy, []byte(plain))
			}}}
}

func (h *Accounts) repo() repository {
	return repository{store: h.store, now: h.now, maxRetries: h.maxRetries, snapshots: h.snapshots, snapshotEvery: h.snapshotEvery}
}

// loadAccount folds the account's stream.
func (h *Accounts) loadAccount(ctx context.Context, accountID string) (*account.Account, error) {
	c, err := h.keys.ForReading(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return load(ctx, h.repo(), accounts(h.policy, c), account.StreamID(accountID))
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
	// Every write needs the account's key: none is made for an erased
	// account, so nothing personal is written for it (ErrAccountErased).
	c, err := h.keys.ForWriting(ctx, accountID)
	if err != nil {
		return eventstore.Position{}, err
	}
	sealed, err := meta.sealed(c)
	if err != nil {
		return eventstore.Position{}, err
	}
	return update(ctx, h.repo(), accounts(h.policy, c), account.StreamID(accountID), sealed, decide, fx)
}

// lookup finds the account that owns email, through the email claim stream.
// A claim whose account stream was never written (a crash between the two
// appends of Register) counts as no account, and so does an erased one.
func (h *Accounts) lookup(ctx context.Context, email account.Email) (*account.Account, error) {
	claim, _, err := h.loadClaim(ctx, email)
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

// loadClaim folds the address's claim stream (keyed name). When that
// stream was never written it folds the legacy, unkeyed one instead
// (stream is then its name): stores written before keyed names keep
// working without a migration; a new claim always goes to the keyed
// stream, and registration checks the legacy one first (claimEmail).
func (h *Accounts) loadClaim(ctx context.Context, email account.Email) (claim *account.EmailClaim, stream string, err error) {
	stream = h.codes.ClaimStreamID(email)
	history, err := readStream(ctx, h.store, stream, account.Decode)
	if err != nil {
		return nil, "", err
	}
	if len(history) == 0 {
		legacy := email.LegacyStreamID()
		old, err := readStream(ctx, h.store, legacy, account.Decode)
		if err != nil {
			return nil, "", err
		}
		if len(old) > 0 {
			return account.EmailClaimFromHistory(old), legacy, nil
		}
	}
	return account.EmailClaimFromHistory(history), stream, nil
}
