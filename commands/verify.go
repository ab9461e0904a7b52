package commands

import (
	"context"
	"errors"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// VerifyEmail is "enter verification code".
type VerifyEmail struct {
	Email string
	Code  string
	Meta  Meta
}

// VerifyEmail verifies the account with its emailed code. A wrong code is
// recorded (VerificationCodeRejected) and counts towards the limits.
// An unknown address and a verified account answer like an unverified
// account given a wrong code, limits included (see phantomAccounts).
// Errors: account.ErrWrongCode, ErrCodeExpired, ErrNoActiveCode,
// ErrMalformedCode (all ErrInvalidCode), ErrTooManyAttempts (and
// ErrCodeVoided), ErrUnavailable, ErrConflict.
func (h *Accounts) VerifyEmail(ctx context.Context, cmd VerifyEmail) (Result, error) {
	code, err := account.ParseCode(cmd.Code)
	if err != nil {
		return Result{}, err
	}
	email, err := account.NormaliseEmail(cmd.Email)
	if err != nil {
		return Result{}, account.ErrWrongCode
	}
	a, err := h.lookup(ctx, email)
	if err != nil {
		return Result{}, err
	}
	if a == nil {
		return Result{}, h.phantomVerify(ctx, email, code)
	}
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.Verify(h.codes, code, now)
	})
	if errors.Is(err, account.ErrAlreadyVerified) {
		// Saying "already verified" would tell anyone that the address has
		// an account; a verified account answers like an unknown address.
		perr := h.phantomVerify(ctx, email, code)
		if errors.Is(perr, account.ErrWrongCode) {
			// The hourly limit counts verify and reset tries together: the
			// account's stream counts this one too, and a wrong reset code
			// is counted on the phantom (ConfirmPasswordReset).
			if _, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
				return a.CountWrongTry(account.PurposeVerifyEmail, now)
			}); err != nil {
				return Result{}, err
			}
		}
		return Result{}, perr
	}
	return Result{AccountID: a.ID(), Position: pos}, err
}

// phantomVerify answers a verification of an address without an account
// (or of a verified one) as an unverified account answers a wrong code,
// 400s turning into 429s after as many tries (see phantomAccounts).
func (h *Accounts) phantomVerify(ctx context.Context, email account.Email, code account.Code) error {
	err := h.phantoms.decide(ctx, email, h.now(), func(p *account.Account) ([]account.Event, error) {
		return p.Verify(h.codes, code, h.now())
	})
	if err == nil { // a one-in-a-million guess of a code nobody was sent
		err = account.ErrWrongCode
	}
	return err
}
