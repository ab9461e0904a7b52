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
// An unknown address answers exactly like a wrong code.
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
		return Result{}, account.ErrWrongCode
	}
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.Verify(h.codes, code, now)
	})
	if errors.Is(err, account.ErrAlreadyVerified) {
		// Saying "already verified" would tell anyone that the address has
		// an account; a verified account has no code to accept.
		return Result{}, account.ErrWrongCode
	}
	return Result{AccountID: a.ID(), Position: pos}, err
}
