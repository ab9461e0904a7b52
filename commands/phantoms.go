package commands

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// maxPhantoms bounds the phantom accounts kept in memory (a few hundred
// bytes each); the least recently used is forgotten first.
const maxPhantoms = 10_000

// phantomPasswordHash is the password hash of every phantom. It is no valid
// encoding, so no password can ever match it; logins into a phantom fail
// before it is looked at anyway.
const phantomPasswordHash = "phantom:no-password-matches"

// phantomAccounts stands in for the accounts an answer must not reveal: an
// address with no account, and, on verify, a verified account. Each is an
// in-memory account.Account, registered and unverified, whose codes nobody
// knows; the commands run the same domain rules on it as on a real
// account and apply the events in memory instead of appending them. So
// wrong codes count, codes are voided after five tries, logins are delayed
// after five failures and the error messages are the same, whether the
// address has an account or not: a caller cannot probe for accounts
// through 400s turning into 429s.
//
// Phantoms live in one process and are forgotten on restart or when
// maxPhantoms newer ones push them out; a real account's counters are in
// its stream. Both differences need many requests or a restart to observe.
type phantomAccounts struct {
	policy account.Policy
	codes  *account.CodeHasher

	mu    sync.Mutex
	lru   *list.List // of *phantom, most recently used first
	byKey map[[sha256.Size]byte]*list.Element
}

type phantom struct {
	key [sha256.Size]byte
	a   *account.Account
}

func newPhantomAccounts(policy account.Policy, codes *account.CodeHasher) *phantomAccounts {
	return &phantomAccounts{policy: policy, codes: codes, lru: list.New(), byKey: map[[sha256.Size]byte]*list.Element{}}
}

// decide runs decide on the phantom of email (made on first use) under the
// lock, applies the events it returns and returns its error.
func (p *phantomAccounts) decide(email account.Email, now time.Time, decide func(a *account.Account) ([]account.Event, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, err := p.get(email, now)
	if err != nil {
		return err
	}
	events, derr := decide(a)
	for _, e := range events {
		a.Apply(e)
	}
	return derr
}

// get returns the phantom of email, registering a new one (with a verify
// code nobody knows) when there is none. The key is a SHA-256 of the
// address, so the map does not hold the addresses themselves.
func (p *phantomAccounts) get(email account.Email, now time.Time) (*account.Account, error) {
	key := sha256.Sum256([]byte(email.String()))
	if el, ok := p.byKey[key]; ok {
		p.lru.MoveToFront(el)
		return el.Value.(*phantom).a, nil
	}
	id := uuid.NewString()
	code, err := account.NewCode()
	if err != nil {
		return nil, err
	}
	a := account.FromHistory(p.policy, nil)
	events, err := a.Register(id, email, phantomPasswordHash, false, p.codes.Hash(id, account.PurposeVerifyEmail, code), now)
	if err != nil {
		return nil, fmt.Errorf("register a phantom account: %w", err)
	}
	for _, e := range events {
		a.Apply(e)
	}
	p.byKey[key] = p.lru.PushFront(&phantom{key: key, a: a})
	for p.lru.Len() > maxPhantoms {
		oldest := p.lru.Back()
		p.lru.Remove(oldest)
		delete(p.byKey, oldest.Value.(*phantom).key)
	}
	return a, nil
}

// newCodeHash draws a code nobody will see and returns its hash, for a
// phantom's code requests.
func (p *phantomAccounts) newCodeHash(a *account.Account, purpose account.Purpose) (string, error) {
	code, err := account.NewCode()
	if err != nil {
		return "", err
	}
	return p.codes.Hash(a.ID(), purpose, code), nil
}
