package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/mail"
)

// Register is the command behind "Create an account".
type Register struct {
	Email      string
	Password   string
	Newsletter bool
	Meta       Meta
}

// Register creates an account and mails its first verification code.
//
// The address is claimed first (stream email-<keyed tag>, with the expected
// version of what was read), so two registrations of one address cannot both win. An address
// already taken gives the same nil error and a zero Result, so that callers
// cannot tell (no enumeration); its owner gets a notice instead, at most
// one an hour. A claim
// whose account is not written yet belongs to a registration in flight and
// is left to it (same nil error, no mail) for Policy.ClaimGrace; only an
// older one, left by a crash between the two appends, is completed by the
// next registration of that address.
//
// Errors: *account.EmailError (ErrInvalidEmail), *account.PasswordPolicyError
// (ErrWeakPassword), ErrUnavailable, ErrConflict.
func (h *Accounts) Register(ctx context.Context, cmd Register) (Result, error) {
	email, err := account.NormaliseEmail(cmd.Email)
	if err != nil {
		return Result{}, err
	}
	if err := account.CheckPassword(cmd.Password, email); err != nil {
		return Result{}, err
	}
	// Hash before we know whether the address is free, so both paths cost the same.
	pwHash, err := h.passwords.Hash(cmd.Password)
	if err != nil {
		return Result{}, fmt.Errorf("hash password: %w", err)
	}
	accountID, claim, err := h.claimEmail(ctx, email, cmd.Meta)
	if err != nil {
		return Result{}, err
	}
	switch claim {
	case claimTaken:
		if h.notices.allow(email.String(), h.now()) {
			// No event: the notice reports nothing stored, so it is ready at once.
			if err := h.queueNotice(ctx, mail.Envelope{Message: alreadyRegisteredMail(email),
				Kind: mail.KindAlreadyRegistered, ExpiresAt: h.now().Add(noticeTTL)}); err != nil {
				return Result{}, err
			}
		}
		return Result{}, nil
	case claimInFlight:
		return Result{}, nil
	}
	var code account.Code
	pos, err := h.update(ctx, accountID, cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		if a.Registered() {
			return nil, account.ErrAlreadyRegistered
		}
		code, err = account.NewCode()
		if err != nil {
			return nil, err
		}
		codeHash := h.codes.Hash(accountID, account.PurposeVerifyEmail, code)
		return a.Register(accountID, email, pwHash, cmd.Newsletter, codeHash, now)
	}, h.codeMailFor(email, account.PurposeVerifyEmail, &code))
	if errors.Is(err, account.ErrAlreadyRegistered) {
		// A concurrent registration completed the same stale claim.
		return Result{}, nil
	}
	if err != nil {
		return Result{}, err
	}
	return Result{AccountID: accountID, Position: pos}, nil
}

// claimOutcome is what claimEmail found.
type claimOutcome int

const (
	// claimOurs: the address is claimed for the returned account id, whose
	// stream this registration writes.
	claimOurs claimOutcome = iota
	// claimTaken: the address belongs to a registered account.
	claimTaken
	// claimInFlight: another registration claimed the address less than
	// Policy.ClaimGrace ago and has not written its account yet.
	claimInFlight
)

// claimEmail claims email for a new account id, or finds who holds it. The
// claim goes to the keyed stream (CodeHasher.ClaimStreamID); a live claim
// in the legacy, unkeyed stream of an older store counts as taken too. An
// address released by an erased account is claimed again, after its
// release, in the same stream.
func (h *Accounts) claimEmail(ctx context.Context, email account.Email, meta Meta) (string, claimOutcome, error) {
	existing, stream, err := h.loadClaim(ctx, email)
	if err != nil {
		return "", 0, err
	}
	if existing.ClaimedBy() == "" {
		accountID := uuid.NewString()
		keyed := h.codes.ClaimStreamID(email)
		expected := eventstore.NoStream
		if stream == keyed && existing.Version() > 0 {
			expected = eventstore.Exact(uint64(existing.Version() - 1))
		}
		claim, err := existing.Claim(accountID, h.now())
		if err != nil {
			return "", 0, err
		}
		c, err := h.keys.ForWriting(ctx, accountID)
		if err != nil {
			return "", 0, err
		}
		data, err := toEventData(claim, c, meta, h.now())
		if err != nil {
			return "", 0, err
		}
		_, err = h.store.Append(ctx, keyed, expected, data...)
		if err == nil {
			return accountID, claimOurs, nil
		}
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return "", 0, fmt.Errorf("claim email: %w: %w", ErrUnavailable, err)
		}
		// Another registration claimed it first: see who holds it now.
		if existing, _, err = h.loadClaim(ctx, email); err != nil {
			return "", 0, err
		}
	}
	owner := existing.ClaimedBy()
	if owner == "" {
		return "", 0, fmt.Errorf("email stream without a claim: %w", ErrConflict)
	}
	a, err := h.loadAccount(ctx, owner)
	if err != nil {
		return "", 0, err
	}
	switch {
	case a.Registered():
		return owner, claimTaken, nil
	case h.now().Sub(existing.ClaimedAt()) < h.policy.ClaimGrace:
		return owner, claimInFlight, nil
	}
	return owner, claimOurs, nil
}
