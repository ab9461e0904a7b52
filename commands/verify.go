package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// VerifyEmail is "enter verification code". Password is what the person
// typed when registering: whoever holds the code sets the account's
// password with it.
type VerifyEmail struct {
	Email    string
	Code     string
	Password string
	Meta     Meta
}

// VerifyEmail verifies the account with its emailed code and sets the
// password given with it. Somebody else may have registered the address
// first, with their own password, so on success the registration's
// password is replaced and every session and device token from before
// ends: after verification only the mailbox owner gets in.
//
// A wrong code is recorded (VerificationCodeRejected) and counts towards the
// limits, per client and per account. The code that just verified the
// account, sent again with the same password (a double click), answers
// like the success and costs nothing. An unknown address and a verified
// account answer like an unverified account given a wrong code, limits
// included (see phantomAccounts), after the same hashing work.
//
// Errors: *account.PasswordPolicyError (ErrWeakPassword), account.ErrWrongCode,
// ErrCodeExpired, ErrNoActiveCode, ErrMalformedCode (all ErrInvalidCode),
// *account.AttemptsError (ErrTooManyAttempts, ErrCodeVoided),
// ErrUnavailable, ErrConflict.
func (h *Accounts) VerifyEmail(ctx context.Context, cmd VerifyEmail) (Result, error) {
	code, err := account.ParseCode(cmd.Code)
	if err != nil {
		return Result{}, err
	}
	email, err := account.NormaliseEmail(cmd.Email)
	if err != nil {
		return Result{}, account.ErrWrongCode
	}
	if err := account.CheckPassword(cmd.Password, email); err != nil {
		return Result{}, err
	}
	// Hash before the lookup, so that every path costs the same.
	pwHash, err := h.passwords.Hash(cmd.Password)
	if err != nil {
		return Result{}, fmt.Errorf("hash password: %w", err)
	}
	client := h.clientKey(cmd.Meta)
	a, err := h.lookup(ctx, email)
	if err != nil {
		return Result{}, err
	}
	if a == nil {
		return Result{}, h.phantomVerify(ctx, email, code, pwHash, client)
	}
	var at time.Time
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		at = now
		return a.Verify(h.codes, code, pwHash, client, now)
	})
	if errors.Is(err, account.ErrAlreadyVerified) {
		return h.verifiedAccountVerify(ctx, email, code, cmd, client)
	}
	if err != nil {
		return Result{AccountID: a.ID(), Position: pos}, err
	}
	// The password given at registration may be a stranger's, and so may
	// any session or device from before: end them all. A failure here is
	// reported (the account is verified, but old sessions may survive), and
	// the same request sent again answers like the success and tries again.
	if err := h.endSessions(ctx, a.ID(), at); err != nil {
		slog.ErrorContext(ctx, "verify: could not end the sessions from before verification", "account_id", a.ID(), "error", err)
		return Result{AccountID: a.ID(), Position: pos}, err
	}
	return Result{AccountID: a.ID(), Position: pos}, nil
}

// verifiedAccountVerify answers verify on an account that is verified
// already. The code that verified it, sent again with the password it set
// (a double click, a retried request), answers like the success, recording
// nothing. Anything else answers like an unknown address: saying "already
// verified" would tell anyone that the address has an account.
func (h *Accounts) verifiedAccountVerify(ctx context.Context, email account.Email, code account.Code, cmd VerifyEmail, client string) (Result, error) {
	a, err := h.lookup(ctx, email)
	if err != nil {
		return Result{}, err
	}
	if a != nil && a.RepeatsUsedCode(h.codes, account.PurposeVerifyEmail, code, h.now()) {
		if ok, _, err := h.passwords.Verify(cmd.Password, a.PasswordHash()); err == nil && ok {
			// Sessions may have been left by a failed EndAll: end them again.
			if err := h.endSessions(ctx, a.ID(), a.VerifiedAt()); err != nil {
				return Result{}, err
			}
			pos, err := h.lastPosition(ctx, a)
			return Result{AccountID: a.ID(), Position: pos}, err
		}
	}
	perr := h.phantomVerify(ctx, email, code, "", client)
	if errors.Is(perr, account.ErrWrongCode) && a != nil {
		// The hourly limit counts verify and reset tries together: the
		// account's stream counts this one too, and a wrong reset code
		// is counted on the phantom (ConfirmPasswordReset).
		if _, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
			return a.CountWrongTry(account.PurposeVerifyEmail, client, now)
		}); err != nil {
			return Result{}, err
		}
	}
	return Result{}, perr
}

// lastPosition is the global position of the account's last event, for a
// repeated request that answers like the success it repeats.
func (h *Accounts) lastPosition(ctx context.Context, a *account.Account) (eventstore.Position, error) {
	if a.Version() == 0 {
		return eventstore.Position{}, nil
	}
	page, err := h.store.ReadStream(ctx, account.StreamID(a.ID()), uint64(a.Version()-1), 1)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("read account %s: %w: %w", a.ID(), ErrUnavailable, err)
	}
	if len(page) == 0 {
		return eventstore.Position{}, nil
	}
	return page[len(page)-1].Position, nil
}

// phantomVerify answers a verification of an address without an account
// (or of a verified one) as an unverified account answers a wrong code,
// 400s turning into 429s after as many tries (see phantomAccounts).
func (h *Accounts) phantomVerify(ctx context.Context, email account.Email, code account.Code, pwHash, client string) error {
	if pwHash == "" {
		pwHash = phantomPasswordHash
	}
	return h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
		events, err := p.Verify(h.codes, code, pwHash, client, h.now())
		if err == nil {
			// A one-in-a-million guess of a code nobody was sent: a phantom
			// stays unverified and counts it as the wrong try it is.
			return p.CountWrongTry(account.PurposeVerifyEmail, client, h.now())
		}
		return events, err
	})
}
