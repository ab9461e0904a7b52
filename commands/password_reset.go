package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// ConfirmPasswordReset is "Create a new password" with the emailed code.
type ConfirmPasswordReset struct {
	Email       string
	Code        string
	NewPassword string
	Meta        Meta
}

// ConfirmPasswordReset sets the new password when the reset code is right,
// ends every session of the account and mails a notice. The password rule
// is checked first (it is public); an unknown address answers like an
// account without a reset code, after the same hashing work and with the
// same limits (see phantomAccounts).
// Errors: *account.PasswordPolicyError, the code errors of VerifyEmail,
// ErrUnavailable, ErrConflict.
func (h *Accounts) ConfirmPasswordReset(ctx context.Context, cmd ConfirmPasswordReset) (Result, error) {
	code, err := account.ParseCode(cmd.Code)
	if err != nil {
		return Result{}, err
	}
	email, err := account.NormaliseEmail(cmd.Email)
	if err != nil {
		return Result{}, account.ErrWrongCode
	}
	if err := account.CheckPassword(cmd.NewPassword, email); err != nil {
		return Result{}, err
	}
	newHash, err := h.passwords.Hash(cmd.NewPassword)
	if err != nil {
		return Result{}, fmt.Errorf("hash password: %w", err)
	}
	a, err := h.lookup(ctx, email)
	if err != nil {
		return Result{}, err
	}
	if a == nil {
		err := h.phantoms.decide(ctx, email, h.now(), func(p *account.Account) ([]account.Event, error) {
			return p.ConfirmPasswordReset(h.codes, code, newHash, h.now())
		})
		if err == nil { // a one-in-a-million guess of a code nobody was sent
			err = account.ErrWrongCode
		}
		return Result{}, err
	}
	var at time.Time
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		at = now
		return a.ConfirmPasswordReset(h.codes, code, newHash, now)
	}, passwordChangedMailFor(email))
	if errors.Is(err, account.ErrWrongCode) && a.Verified() {
		// A verified account answers verify on its phantom; the phantom
		// counts this wrong try too, so both see the same hourly count.
		if perr := h.phantoms.decide(ctx, email, h.now(), func(p *account.Account) ([]account.Event, error) {
			return p.CountWrongTry(account.PurposeResetPassword, h.now())
		}); perr != nil {
			return Result{}, perr
		}
	}
	if err != nil {
		return Result{AccountID: a.ID(), Position: pos}, err
	}
	// The reset is recorded; now no old session may survive it. The
	// sessions live in Postgres next to the events, so this rarely fails;
	// try a few times, then report it loudly: the password is changed, but
	// old sessions stay valid until they expire or log out.
	if err := h.endSessions(ctx, a.ID(), at); err != nil {
		slog.ErrorContext(ctx, "password reset: could not end the account's sessions", "account_id", a.ID(), "error", err)
		return Result{AccountID: a.ID(), Position: pos}, err
	}
	return Result{AccountID: a.ID(), Position: pos}, nil
}

// endSessions ends every session of an account created up to the reset at
// at, retrying briefly.
func (h *Accounts) endSessions(ctx context.Context, accountID string, at time.Time) error {
	var err error
	for attempt := range 3 {
		if err = h.sessions.EndAll(ctx, accountID, at); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	return err
}
