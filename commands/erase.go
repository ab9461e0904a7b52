package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// EraseAccount is "Delete my account", confirmed with the password.
type EraseAccount struct {
	AccountID string
	Password  string
	Meta      Meta
}

// ErrWrongPassword is Erase's refusal of a wrong confirmation password;
// nothing changed.
var ErrWrongPassword = apperr.New(apperr.WrongPassword, "the password is not the account's")

// endOfTime is the revocation instant of an erased account's sessions:
// every session, also one a racing login writes later, is refused.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Erase erases the account of a logged-in person who confirmed with their
// password (GDPR art. 17). In order:
//
//  1. the password is checked; a wrong one counts as a failed login
//     (LoginFailed, with the login's delays: in a delay window the
//     password is not checked) and changes nothing else;
//  2. the address's claim is released (EmailReleased), so that the address
//     can register again as a new account, and its phantom and the mail
//     queued for it or its events are deleted;
//  3. the account's data key is destroyed: every personal field sealed
//     under it (the address, client IPs, client tags) reads "[erased]" from
//     now on, in every event, without one stored byte changing, and every
//     command that needs the key from now on fails (ErrAccountErased), on
//     every instance: writers stop;
//  4. AccountErased is appended (with the expected version; it carries
//     nothing personal, so it needs no key; racing writers that fetched
//     the key before step 3 only delay it, and a racing login decides
//     again and finds the account gone);
//  5. its sessions and known devices are ended, also one a racing login
//     writes later, and its snapshots are dropped.
//
// The read models drop the account's row when they apply AccountErased;
// download statistics keep their counts. A retry after a failure part-way
// does the remaining steps (each is idempotent); once the account is
// erased it does not ask for the password again.
//
// Errors: ErrWrongPassword (a failed login recorded, nothing else
// changed), *account.RetryAfterError (ErrLoginDelayed: too many failed
// logins or confirmations, nothing changed), ErrNotFound, ErrConflict,
// ErrUnavailable.
func (h *Accounts) Erase(ctx context.Context, cmd EraseAccount) (Result, error) {
	a, err := h.loadAccount(ctx, cmd.AccountID)
	if err != nil {
		return Result{}, err
	}
	if !a.Erased() {
		if !a.Registered() {
			return Result{}, fmt.Errorf("account %s: %w", cmd.AccountID, ErrNotFound)
		}
		// As at login: in a delay window the password is not even checked.
		if wait := a.LoginRetryAfter(h.now()); wait > 0 {
			return Result{}, &account.RetryAfterError{Wait: wait}
		}
		ok := false
		if len(cmd.Password) > account.MaxPasswordBytes {
			h.passwords.DummyVerify(cmd.Password)
		} else if ok, _, err = h.passwords.Verify(cmd.Password, a.PasswordHash()); err != nil {
			return Result{}, fmt.Errorf("verify password: %w", err)
		}
		if !ok {
			return Result{}, h.refuseConfirmation(ctx, cmd)
		}
	}
	// Nothing here is personal: the events of the erasure carry no client IP.
	meta := cmd.Meta
	meta.ClientIP = ""
	email := a.Email()
	if !email.IsZero() && !account.IsSealed(email.String()) && email.String() != account.Erased {
		if err := h.releaseClaim(ctx, email, cmd.AccountID, meta); err != nil {
			return Result{}, err
		}
		if err := h.phantomEraser.DeletePhantom(ctx, h.phantoms.key(email)); err != nil {
			return Result{}, err
		}
	} else {
		email = account.Email{} // the key went in an earlier try: so did the claim
	}
	n, err := h.mailEraser.Forget(ctx, email.String(), account.StreamID(cmd.AccountID))
	if err != nil {
		return Result{}, fmt.Errorf("forget the account's queued mail: %w: %w", ErrUnavailable, err)
	}
	if err := h.keys.Destroy(ctx, cmd.AccountID); err != nil {
		return Result{}, err
	}
	// Writers that fetched the key before it went may still append (a
	// download does not wait for the stream's version): more tries than
	// other commands get, each after a growing random wait.
	repo := h.repo()
	repo.maxRetries = max(repo.maxRetries, eraseRetries)
	pos, err := update(ctx, repo, accounts(h.policy, account.ErasedCipher), account.StreamID(cmd.AccountID), meta,
		func(a *account.Account, now time.Time) ([]account.Event, error) {
			if a.Erased() {
				return nil, nil
			}
			// The password was right at step 1; a reset since does not
			// bring back an account whose key is gone.
			return a.Erase(true, now)
		}, sideEffects{})
	if err != nil {
		return Result{}, err
	}
	if err := h.sessions.EndAll(ctx, cmd.AccountID, endOfTime); err != nil {
		return Result{}, err
	}
	// Its snapshots hold the address: sealed under the destroyed key, they
	// could no longer be read anyway; they go all the same.
	if h.snapshots != nil {
		if err := h.snapshots.Drop(ctx, account.StreamID(cmd.AccountID)); err != nil {
			return Result{}, fmt.Errorf("drop the account's snapshots: %w: %w", ErrUnavailable, err)
		}
	}
	slog.InfoContext(ctx, "account erased", "account_id", cmd.AccountID, "queued_mails_deleted", n)
	return Result{AccountID: cmd.AccountID, Position: pos}, nil
}

// refuseConfirmation records a wrong erasure password as a failed login
// (its client IP sealed like a login's) and returns ErrWrongPassword, or
// the delay a concurrent failure started.
func (h *Accounts) refuseConfirmation(ctx context.Context, cmd EraseAccount) error {
	_, err := h.update(ctx, cmd.AccountID, cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.RefuseConfirmation(now)
	})
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		return ErrWrongPassword
	case errors.Is(err, account.ErrAccountErased) || errors.Is(err, account.ErrNotRegistered):
		return fmt.Errorf("account %s: %w", cmd.AccountID, ErrNotFound)
	case err == nil: // cannot happen: a refusal always errs
		return ErrWrongPassword
	}
	return err
}

// eraseRetries bounds the tries of the AccountErased append.
const eraseRetries = 20

// releaseClaim appends EmailReleased to the claim stream of email when
// accountID holds it (the keyed stream, or the legacy one of an older
// store). meta carries no client IP: the event needs no key.
func (h *Accounts) releaseClaim(ctx context.Context, email account.Email, accountID string, meta Meta) error {
	for attempt := 0; ; attempt++ {
		claim, stream, err := h.loadClaim(ctx, email)
		if err != nil {
			return err
		}
		events := claim.Release(accountID, h.now())
		if len(events) == 0 {
			return nil
		}
		data, err := stamp(events, account.Encode, meta, h.now())
		if err != nil {
			return err
		}
		_, err = h.store.Append(ctx, stream, expectedFor(claim.Version()), data...)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, eventstore.ErrWrongExpectedVersion):
			return fmt.Errorf("release the address: %w: %w", ErrUnavailable, err)
		case attempt >= h.maxRetries:
			return fmt.Errorf("release the address: %w", ErrConflict)
		}
	}
}
