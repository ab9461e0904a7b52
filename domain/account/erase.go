package account

import "time"

// Erased reports whether the account was erased (AccountErased): it is
// then neither registered nor verified, and accepts no command.
func (a *Account) Erased() bool { return a.erased }

// Erase decides the erasure its owner asked for, once the caller has
// checked the password against PasswordHash (passwordOK):
//
//   - not registered (or already erased): nil, ErrNotRegistered
//   - wrong password: nil, ErrInvalidCredentials (the caller records it
//     with RefuseConfirmation first: see there)
//   - right password: [AccountErased], nil
//
// The caller destroys the account's data key, releases the address and
// removes what lives outside the event store.
func (a *Account) Erase(passwordOK bool, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if !passwordOK {
		return nil, ErrInvalidCredentials
	}
	return []Event{AccountErased{AccountID: a.id, At: now.UTC()}}, nil
}

// RefuseConfirmation decides a wrong password given to confirm an action
// of a logged-in person (erasing the account). It counts as a failed
// login, with the same delays: a stolen session must not become a way to
// guess the password faster than the login page allows.
//
//   - not registered (or erased): nil, ErrNotRegistered
//   - in a delay window: nil, *RetryAfterError (nothing is recorded)
//   - otherwise: [LoginFailed], ErrInvalidCredentials (append the event)
func (a *Account) RefuseConfirmation(now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if wait := a.LoginRetryAfter(now); wait > 0 {
		return nil, &RetryAfterError{Wait: wait}
	}
	return []Event{LoginFailed{AccountID: a.id, At: now.UTC()}}, ErrInvalidCredentials
}
