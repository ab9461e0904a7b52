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
// same limits (see phantomAccounts). Wrong codes count per client and per
// account. The code that just reset the password, sent again with the same
// new password (a double click), answers like the success and costs
// nothing.
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
	client := h.clientKey(cmd.Meta)
	a, err := h.lookup(ctx, email)
	if err != nil {
		return Result{}, err
	}
	if a == nil {
		return Result{}, h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
			events, err := p.ConfirmPasswordReset(h.codes, code, newHash, client, h.now())
			if err == nil {
				// A one-in-a-million guess of a code nobody was sent: the
				// phantom counts it as the wrong try it is.
				return p.CountWrongTry(account.PurposeResetPassword, client, h.now())
			}
			return events, err
		})
	}
	var at time.Time
	repeated := false
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		at, repeated = now, false
		if a.RepeatsUsedCode(h.codes, account.PurposeResetPassword, code, now) {
			// Sent again after it worked: if it would change nothing, it
			// answers like the success it repeats and counts nothing.
			if ok, _, err := h.passwords.Verify(cmd.NewPassword, a.PasswordHash()); err == nil && ok {
				repeated = true
				return nil, nil
			}
		}
		return a.ConfirmPasswordReset(h.codes, code, newHash, client, now)
	}, passwordChangedMailFor(email))
	if repeated {
		cur, err := h.loadAccount(ctx, a.ID())
		if err != nil {
			return Result{}, err
		}
		pos, err := h.lastPosition(ctx, cur)
		return Result{AccountID: a.ID(), Position: pos}, err
	}
	if errors.Is(err, account.ErrWrongCode) && a.Verified() {
		// A verified account answers verify on its phantom; the phantom
		// counts this wrong try too, so both see the same hourly count.
		if perr := h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
			return p.CountWrongTry(account.PurposeResetPassword, client, h.now())
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
