package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

const readPage = 1000

// readStream reads a whole stream and decodes it with decode.
func readStream[E any](ctx context.Context, store eventstore.Store, stream string, decode func(string, []byte) (E, error)) ([]E, error) {
	var out []E
	for from := uint64(0); ; {
		page, err := store.ReadStream(ctx, stream, from, readPage)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w: %w", stream, ErrUnavailable, err)
		}
		for _, re := range page {
			e, err := decode(re.Type, re.Data)
			if err != nil {
				return nil, fmt.Errorf("decode %s version %d: %w", stream, re.Version, err)
			}
			out = append(out, e)
		}
		if len(page) < readPage {
			return out, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

func expectedFor(version int) eventstore.ExpectedVersion {
	if version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(uint64(version - 1))
}

// loadAccount folds the account's stream.
func (h *Accounts) loadAccount(ctx context.Context, accountID string) (*account.Account, error) {
	history, err := readStream(ctx, h.store, account.StreamID(accountID), account.Decode)
	if err != nil {
		return nil, err
	}
	return account.FromHistory(h.policy, history), nil
}

// decision is what a command decides given the current account. Returning
// events together with an error appends the events and then reports the
// error (a rejected code is recorded, and the caller still learns why).
type decision func(a *account.Account, now time.Time) ([]account.Event, error)

// update loads the account, lets decide choose events and appends them with
// the expected version; on a concurrent change it reloads and decides again,
// at most maxRetries times.
//
// mails are the mails a successful decision sends: they are queued in the
// outbox before the append (an error then appends nothing), confirmed
// after it, and discarded when it is refused; when its outcome is unknown
// they are left to the outbox's relay, which looks for the event.
func (h *Accounts) update(ctx context.Context, accountID string, meta Meta, decide decision, mails ...mailFunc) (eventstore.Position, error) {
	for attempt := 0; ; attempt++ {
		a, err := h.loadAccount(ctx, accountID)
		if err != nil {
			return eventstore.Position{}, err
		}
		now := h.now()
		events, derr := decide(a, now)
		if len(events) == 0 {
			return eventstore.Position{}, derr
		}
		data, err := toEventData(events, meta, now)
		if err != nil {
			return eventstore.Position{}, err
		}
		var mailIDs []string
		if derr == nil && len(mails) > 0 {
			last := data[len(data)-1]
			ref := mail.EventRef{Stream: account.StreamID(accountID), EventID: last.ID.String(), Version: uint64(a.Version() + len(data) - 1)}
			if mailIDs, err = h.queueMails(ctx, mails, now, ref); err != nil {
				return eventstore.Position{}, err
			}
			if err := h.faults.check(h.faults.afterQueue); err != nil {
				return eventstore.Position{}, err
			}
		}
		res, err := h.store.Append(ctx, account.StreamID(accountID), expectedFor(a.Version()), data...)
		switch {
		case err == nil:
			if len(mailIDs) > 0 {
				if err := h.faults.check(h.faults.afterAppend); err != nil {
					return eventstore.Position{}, err
				}
			}
			h.settleMails(ctx, mailIDs, true)
			return res.Position, derr
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			h.settleMails(ctx, mailIDs, false)
			if attempt >= h.maxRetries {
				// No account id here: the message reaches anonymous callers of verify
				// and reset-confirm, and an id would tell them the address exists.
				return eventstore.Position{}, fmt.Errorf("the account kept changing: %w", ErrConflict)
			}
			continue
		default:
			return eventstore.Position{}, fmt.Errorf("append to account %s: %w: %w", accountID, ErrUnavailable, err)
		}
	}
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
