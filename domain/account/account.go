package account

import (
	"encoding/hex"
	"maps"
	"time"

	"github.com/multimedia-portal/multimedia/domain/internal/field"
)

// Account is the aggregate of one person's account. Its state is only ever
// the fold of its events; decision methods read it and return new events
// without changing it.
type Account struct {
	policy Policy

	id           string
	email        Email
	passwordHash string
	registered   bool
	registeredAt time.Time
	verified     bool
	verifiedAt   time.Time
	subscribed   bool
	erased       bool

	codes      map[Purpose]*codeState
	issues     map[Purpose][]codeTry // codes issued in the last RateWindow, with who asked
	wrongTries []codeTry             // wrong code attempts of the last RateWindow
	// refusals holds when each kind of refusal that changes nothing (no
	// code, expired, voided, over the hourly limit) was last recorded.
	refusals map[refusal]time.Time

	failedLogins    int // consecutive, reset by a success or a reset
	lastFailedLogin time.Time
	// sessions holds the open sessions and when each opened; those opened
	// more than MaxSessionAge before the latest login are dropped (they
	// have expired), so the set, and a snapshot, stay as small as the
	// logins of MaxSessionAge, however old the account.
	sessions map[string]time.Time

	version int
}

// refusal is a kind of code refusal that changes no state.
type refusal struct {
	purpose Purpose
	reason  RejectionReason
}

// codeTry is one counted wrong code attempt and the client it came from.
type codeTry struct {
	at     time.Time
	client string
}

// codeState is the active code of one purpose.
type codeState struct {
	hash       string
	issuedAt   time.Time
	expiresAt  time.Time
	wrongTries int
	used       bool
}

// FromHistory folds an account's events, oldest first, into its current
// state. A zero Policy means DefaultPolicy. An empty history gives a new,
// unregistered account on which Register may be called.
func FromHistory(policy Policy, history []Event) *Account {
	if policy == (Policy{}) {
		policy = DefaultPolicy()
	}
	a := &Account{
		policy:   policy,
		codes:    map[Purpose]*codeState{},
		issues:   map[Purpose][]codeTry{},
		refusals: map[refusal]time.Time{},
		sessions: map[string]time.Time{},
	}
	for _, e := range history {
		a.Apply(e)
	}
	return a
}

// Apply moves the state on by one event and counts it in Version. Events of
// other streams are counted but change nothing.
func (a *Account) Apply(e Event) {
	a.version++
	switch e := codec.Value(e).(type) {
	case AccountRegistered:
		a.id = e.AccountID
		a.email = Email{s: e.Email} // was normalised when registered
		a.passwordHash = e.PasswordHash
		a.subscribed = e.Newsletter
		a.registered = true
		a.registeredAt = e.RegisteredAt
	case VerificationCodeIssued:
		// The new code replaces (voids) the previous one of its purpose.
		a.codes[e.Purpose] = &codeState{hash: e.CodeHash, issuedAt: e.IssuedAt, expiresAt: e.ExpiresAt}
		a.issues[e.Purpose] = append(pruneTriesBefore(a.issues[e.Purpose], e.IssuedAt.Add(-RateWindow)), codeTry{at: e.IssuedAt, client: e.Client})
	case VerificationCodeRejected:
		if !e.Reason.Counts() {
			a.refusals[refusal{e.Purpose, e.Reason}] = e.At
		}
		if e.Reason.Counts() {
			if c := a.codes[e.Purpose]; c != nil {
				c.wrongTries++
			}
			a.wrongTries = append(pruneTriesBefore(a.wrongTries, e.At.Add(-RateWindow)), codeTry{at: e.At, client: e.Client})
		}
	case AccountVerified:
		a.verified = true
		a.verifiedAt = e.At
		a.consume(PurposeVerifyEmail)
	case PasswordSetAtVerification:
		a.passwordHash = e.PasswordHash
		clear(a.sessions)
		a.failedLogins = 0
	case LoggedIn:
		a.sessions[e.SessionID] = e.At
		cutoff := e.At.Add(-MaxSessionAge)
		maps.DeleteFunc(a.sessions, func(_ string, opened time.Time) bool { return opened.Before(cutoff) })
		a.failedLogins = 0
	case LoginFailed:
		a.failedLogins++
		a.lastFailedLogin = e.At
	case LoggedOut:
		delete(a.sessions, e.SessionID)
	case PasswordResetCompleted:
		a.passwordHash = e.PasswordHash
		a.consume(PurposeResetPassword)
		clear(a.sessions)
		a.failedLogins = 0
	case PasswordRehashed:
		a.passwordHash = e.PasswordHash
	case NewsletterSubscribed:
		a.subscribed = true
	case NewsletterUnsubscribed:
		a.subscribed = false
	case AccountErased:
		// The id stays, so that the stream is still known as this account's.
		a.erased = true
		a.registered, a.verified, a.subscribed = false, false, false
		// The address stays (it reads "[erased]" once the key is gone) so
		// that a retried erasure can still release its claim.
		a.passwordHash = ""
		clear(a.sessions)
		clear(a.codes)
	}
}

func (a *Account) consume(p Purpose) {
	if c := a.codes[p]; c != nil {
		c.used = true
	}
}

// pruneTriesBefore drops the tries at or before cutoff; events come in
// order, so the kept ones are a suffix.
func pruneTriesBefore(ts []codeTry, cutoff time.Time) []codeTry {
	i := 0
	for i < len(ts) && !ts[i].at.After(cutoff) {
		i++
	}
	return ts[i:]
}

// Register starts a new account and issues its first verify_email code. The
// caller has already checked the password policy, hashed the password and
// hashed the code (CodeHasher.Hash with this account id), and mails the code.
func (a *Account) Register(accountID string, email Email, passwordHash string, newsletter bool, codeHash string, now time.Time) ([]Event, error) {
	switch {
	case a.registered, a.erased:
		return nil, ErrAlreadyRegistered
	case !validAccountID(accountID):
		return nil, invalidArg("account id must be a UUID")
	case email.IsZero():
		return nil, invalidArg("email is empty")
	case passwordHash == "":
		return nil, invalidArg("password hash is empty")
	case !validCodeHash(codeHash):
		return nil, invalidArg("code hash must be a hex HMAC-SHA256")
	}
	now = now.UTC()
	return []Event{
		AccountRegistered{
			AccountID:    accountID,
			Email:        email.String(),
			PasswordHash: passwordHash,
			Newsletter:   newsletter,
			RegisteredAt: now,
		},
		a.issue(accountID, PurposeVerifyEmail, codeHash, now),
	}, nil
}

// validAccountID accepts the canonical text form of a UUID, in either case.
func validAccountID(id string) bool { return field.UUID(id) }

func validCodeHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == 32
}

// ID returns the account id (empty before registration).
func (a *Account) ID() string { return a.id }

// Email returns the normalised address the account was registered with.
func (a *Account) Email() Email { return a.email }

// PasswordHash returns the current encoded password hash, for the caller to
// verify a login against.
func (a *Account) PasswordHash() string { return a.passwordHash }

// Registered reports whether the account exists.
func (a *Account) Registered() bool { return a.registered }

// RegisteredAt returns when the account was registered.
func (a *Account) RegisteredAt() time.Time { return a.registeredAt }

// Verified reports whether the address was confirmed with a code.
func (a *Account) Verified() bool { return a.verified }

// VerifiedAt returns when the address was confirmed (zero if not).
func (a *Account) VerifiedAt() time.Time { return a.verifiedAt }

// Subscribed reports whether the account gets the newsletter.
func (a *Account) Subscribed() bool { return a.subscribed }

// MaxSessionAge is the longest a session may last: the commands refuse a
// longer session lifetime, and the account forgets sessions opened longer
// ago than that before its latest login.
const MaxSessionAge = 90 * 24 * time.Hour

// HasSession reports whether a session is open (logged in, neither logged
// out nor ended by a password reset, and opened less than MaxSessionAge
// before the latest login).
func (a *Account) HasSession(sessionID string) bool {
	_, ok := a.sessions[sessionID]
	return ok
}

// Version is the number of events applied: the expected version for the
// next append (0 means the stream does not exist yet).
func (a *Account) Version() int { return a.version }

// Policy returns the limits this account is judged by.
func (a *Account) Policy() Policy { return a.policy }
