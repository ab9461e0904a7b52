package account

import (
	"time"
)

// LoginRetryAfter returns how long the next login attempt must wait; 0 means
// it may go ahead. After LoginFailuresBeforeDelay consecutive failures the
// delay is LoginBaseDelay, doubling with each further failure up to
// LoginMaxDelay, counted from the last failure. There is no permanent lock.
//
// Call it before verifying the password hash: a delayed attempt must not
// even check the password.
func (a *Account) LoginRetryAfter(now time.Time) time.Duration {
	extra := a.failedLogins - a.policy.LoginFailuresBeforeDelay
	if extra < 0 {
		return 0
	}
	delay := a.policy.LoginBaseDelay
	for i := 0; i < extra && delay < a.policy.LoginMaxDelay; i++ {
		delay *= 2
	}
	delay = min(delay, a.policy.LoginMaxDelay)
	return max(a.lastFailedLogin.Add(delay).Sub(now), 0)
}

// Login decides a login attempt once the caller has verified the password
// against PasswordHash (passwordOK). Nobody logs in before the address is
// verified: until then the password may be a stranger's who registered
// the address first, and verification replaces it.
//
//   - in a delay window: nil, *RetryAfterError (errors.Is ErrLoginDelayed);
//     passwordOK is ignored and nothing is recorded
//   - wrong password: [LoginFailed], ErrInvalidCredentials (append the event)
//   - right password, unverified account: [LoginFailed], an error that
//     is both ErrInvalidCredentials and ErrNotVerified. It is recorded and
//     answered exactly as a wrong password: a stranger who registers an
//     unknown address and then logs in with that password would otherwise
//     learn, from a refusal only the right password gets, that the address
//     had no account (a taken one keeps its owner's password).
//   - right password: [LoggedIn{SessionID}], nil
//
// sessionID is a fresh random identifier, not the bearer token.
func (a *Account) Login(passwordOK bool, sessionID string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if wait := a.LoginRetryAfter(now); wait > 0 {
		return nil, &RetryAfterError{Wait: wait}
	}
	return a.decideLogin(passwordOK, sessionID, now)
}

// LoginFromKnownDevice is Login for an attempt from a device that logged
// in to this account before (the caller checked its device token): the
// delays do not apply, so that someone guessing passwords elsewhere cannot
// keep the owner out. Failures still count for the account; the caller
// limits the failures a device token may have.
func (a *Account) LoginFromKnownDevice(passwordOK bool, sessionID string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	return a.decideLogin(passwordOK, sessionID, now)
}

func (a *Account) decideLogin(passwordOK bool, sessionID string, now time.Time) ([]Event, error) {
	now = now.UTC()
	if !passwordOK {
		return []Event{LoginFailed{AccountID: a.id, At: now}}, ErrInvalidCredentials
	}
	if !a.verified {
		return []Event{LoginFailed{AccountID: a.id, At: now}}, errUnverifiedLogin
	}
	if sessionID == "" {
		return nil, invalidArg("session id is empty")
	}
	return []Event{LoggedIn{AccountID: a.id, SessionID: sessionID, At: now}}, nil
}

// RehashPassword records a stronger hash of the same password, computed at
// a successful login when the stored hash's parameters are below the
// current ones. Append it together with LoggedIn.
func (a *Account) RehashPassword(newPasswordHash string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if newPasswordHash == "" {
		return nil, invalidArg("password hash is empty")
	}
	return []Event{PasswordRehashed{AccountID: a.id, PasswordHash: newPasswordHash, At: now.UTC()}}, nil
}

// Logout ends one open session; an unknown or already ended session is
// ErrUnknownSession.
func (a *Account) Logout(sessionID string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if !a.HasSession(sessionID) {
		return nil, ErrUnknownSession
	}
	return []Event{LoggedOut{AccountID: a.id, SessionID: sessionID, At: now.UTC()}}, nil
}
