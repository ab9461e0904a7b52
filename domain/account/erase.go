package account

import "time"

// Erased reports whether the account was erased (AccountErased): it is
// then neither registered nor verified, and accepts no command.
func (a *Account) Erased() bool { return a.erased }

// Erase decides the erasure its owner asked for, once the caller has
// checked the password against PasswordHash (passwordOK):
//
//   - not registered (or already erased): nil, ErrNotRegistered
//   - wrong password: nil, ErrInvalidCredentials (nothing is recorded:
//     the owner is logged in, this is a confirmation, not a login)
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
