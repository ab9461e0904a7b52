package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// phantomAccounts stands in for the accounts an answer must not reveal: an
// address with no account, and, on verify, a verified account. Each is an
// account.Account, registered and unverified, whose codes nobody knows; the
// commands run the same domain rules on it as on a real account and store
// its events in a PhantomStore instead of the event store. So wrong codes
// count, codes are voided after five tries, logins are delayed after five
// failures and the error messages are the same, whether the address has an
// account or not: a caller cannot probe for accounts through 400s turning
// into 429s. The store is shared by every instance and survives restarts,
// so spreading tries over instances or time does not help either.
type phantomAccounts struct {
	store  PhantomStore
	policy account.Policy
	codes  *account.CodeHasher
}

func newPhantomAccounts(store PhantomStore, policy account.Policy, codes *account.CodeHasher) *phantomAccounts {
	return &phantomAccounts{store: store, policy: policy, codes: codes}
}

// decide runs decide on the phantom of email (registered on first use,
// with a verify code nobody knows, and counted against client's bound)
// while the store holds its lock, stores
// the events it returns and returns its error. The key is an HMAC of the
// address under the server secret, so the store holds no address, and a
// list of candidate addresses cannot be checked against a copy of it.
func (p *phantomAccounts) decide(ctx context.Context, email account.Email, client string, now time.Time, decide func(a *account.Account) ([]account.Event, error)) error {
	key := p.key(email)
	return p.store.UpdatePhantom(ctx, key, []byte(client), func(stored []PhantomEvent) ([]PhantomEvent, error) {
		history := make([]account.Event, 0, len(stored))
		for _, s := range stored {
			e, err := account.Decode(s.Type, s.Data)
			if err != nil {
				return nil, fmt.Errorf("phantom event %s: %w", s.Type, err)
			}
			history = append(history, e)
		}
		var fresh []account.Event
		if len(history) == 0 {
			var err error
			if fresh, err = p.register(now); err != nil {
				return nil, err
			}
			history = fresh
		}
		events, derr := decide(account.FromHistory(p.policy, history))
		out := make([]PhantomEvent, 0, len(fresh)+len(events))
		for _, e := range append(fresh, events...) {
			typ, data, err := account.Encode(e)
			if err != nil {
				return nil, err
			}
			out = append(out, PhantomEvent{Type: typ, Data: data})
		}
		return out, derr
	})
}

// key is where the phantom of email is stored: a keyed tag of the address.
func (p *phantomAccounts) key(email account.Email) []byte {
	return []byte(p.codes.Tag("phantom-account", email.String()))
}

// phantomAddress is the address every phantom is registered with: the rules
// never look at it, and the store keeps no address that somebody typed.
const phantomAddress = "phantom@phantom.invalid"

// register returns the events of a new phantom.
func (p *phantomAccounts) register(now time.Time) ([]account.Event, error) {
	id := uuid.NewString()
	code, err := account.NewCode()
	if err != nil {
		return nil, err
	}
	email, err := account.NormaliseEmail(phantomAddress)
	if err != nil {
		return nil, fmt.Errorf("phantom address: %w", err)
	}
	events, err := account.FromHistory(p.policy, nil).Register(id, email, phantomPasswordHash, false,
		p.codes.Hash(id, account.PurposeVerifyEmail, code), now)
	if err != nil {
		return nil, fmt.Errorf("register a phantom account: %w", err)
	}
	return events, nil
}

// phantomPasswordHash is the password hash of every phantom. It is no valid
// encoding, so no password can ever match it; logins into a phantom fail
// before it is looked at anyway.
const phantomPasswordHash = "phantom:no-password-matches"

// newCodeHash draws a code nobody will see and returns its hash, for a
// phantom's code requests.
func (p *phantomAccounts) newCodeHash(a *account.Account, purpose account.Purpose) (string, error) {
	code, err := account.NewCode()
	if err != nil {
		return "", err
	}
	return p.codes.Hash(a.ID(), purpose, code), nil
}
