package commands

import (
	"context"
	"errors"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// RequestVerificationCode is "Didn't receive a code? Send new code".
type RequestVerificationCode struct {
	Email string
	Meta  Meta
}

// RequestPasswordReset is "Reset password": mail a reset code.
type RequestPasswordReset struct {
	Email string
	Meta  Meta
}

// CodeOutcome says what a code request did. Callers answering the public
// must not reveal it (the same 202 for every outcome); it is for logs and
// tests.
type CodeOutcome string

// The outcomes of a code request.
const (
	CodeSent           CodeOutcome = "sent"
	CodeUnknownAccount CodeOutcome = "unknown_account"
	CodeThrottled      CodeOutcome = "throttled"
	CodeNotNeeded      CodeOutcome = "not_needed"
)

// RequestVerificationCode issues and mails a new verify_email code, voiding
// the previous one. Unknown addresses, verified accounts and throttled
// requests return a nil error with their outcome.
// Errors: *account.EmailError, ErrUnavailable, ErrConflict.
func (h *Accounts) RequestVerificationCode(ctx context.Context, cmd RequestVerificationCode) (CodeOutcome, Result, error) {
	return h.requestCode(ctx, cmd.Email, account.PurposeVerifyEmail, cmd.Meta)
}

// RequestPasswordReset issues and mails a reset_password code; the outcomes
// and errors are those of RequestVerificationCode.
func (h *Accounts) RequestPasswordReset(ctx context.Context, cmd RequestPasswordReset) (CodeOutcome, Result, error) {
	return h.requestCode(ctx, cmd.Email, account.PurposeResetPassword, cmd.Meta)
}

func (h *Accounts) requestCode(ctx context.Context, rawEmail string, purpose account.Purpose, meta Meta) (CodeOutcome, Result, error) {
	email, err := account.NormaliseEmail(rawEmail)
	if err != nil {
		return "", Result{}, err
	}
	a, err := h.lookup(ctx, email)
	if err != nil {
		return "", Result{}, err
	}
	if a == nil {
		if err := h.phantomRequestCode(ctx, email, h.clientKey(meta), purpose); err != nil {
			return "", Result{}, err
		}
		return CodeUnknownAccount, Result{}, nil
	}
	var code account.Code
	pos, err := h.update(ctx, a.ID(), meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		code, err = account.NewCode()
		if err != nil {
			return nil, err
		}
		return a.RequestCode(purpose, h.codes.Hash(a.ID(), purpose, code), h.clientKey(meta), now)
	}, h.codeMailFor(email, purpose, &code))
	switch {
	case errors.Is(err, account.ErrCodeThrottled):
		return CodeThrottled, Result{AccountID: a.ID()}, nil
	case errors.Is(err, account.ErrAlreadyVerified):
		// Verify on a verified account runs on its phantom; so does this.
		if err := h.phantomRequestCode(ctx, email, h.clientKey(meta), purpose); err != nil {
			return "", Result{}, err
		}
		return CodeNotNeeded, Result{AccountID: a.ID()}, nil
	case err != nil:
		return "", Result{}, err
	}
	return CodeSent, Result{AccountID: a.ID(), Position: pos}, nil
}

// phantomRequestCode gives the phantom of email a code nobody is sent, so
// that later tries answer as they would for a real account (see
// phantomAccounts).
func (h *Accounts) phantomRequestCode(ctx context.Context, email account.Email, client string, purpose account.Purpose) error {
	err := h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
		hash, err := h.phantoms.newCodeHash(p, purpose)
		if err != nil {
			return nil, err
		}
		return p.RequestCode(purpose, hash, client, h.now())
	})
	if errors.Is(err, account.ErrCodeThrottled) {
		return nil
	}
	return err
}
