package commands

import (
	"context"
	"errors"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// Authenticate returns the live session of a bearer token.
// Errors: ErrUnauthenticated, ErrUnavailable.
func (h *Accounts) Authenticate(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 256 {
		return Session{}, ErrUnauthenticated
	}
	return h.sessions.Find(ctx, HashToken(token), h.now())
}

// Logout ends the session of a bearer token.
type Logout struct {
	Token string
	Meta  Meta
}

// Logout records LoggedOut and deletes the session.
// Errors: ErrUnauthenticated, ErrUnavailable, ErrConflict.
func (h *Accounts) Logout(ctx context.Context, cmd Logout) (Result, error) {
	sess, err := h.Authenticate(ctx, cmd.Token)
	if err != nil {
		return Result{}, err
	}
	pos, err := h.update(ctx, sess.AccountID, cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		return a.Logout(sess.ID, now)
	})
	if err != nil && !errors.Is(err, account.ErrUnknownSession) {
		return Result{}, err
	}
	if err := h.sessions.Delete(ctx, sess.TokenHash); err != nil {
		return Result{}, err
	}
	return Result{AccountID: sess.AccountID, Position: pos}, nil
}

// SetNewsletter subscribes or unsubscribes an account.
type SetNewsletter struct {
	AccountID  string
	Subscribed bool
	Meta       Meta
}

// SetNewsletter records the choice; asking for the current state appends
// nothing. Errors: ErrNotFound, ErrUnavailable, ErrConflict.
func (h *Accounts) SetNewsletter(ctx context.Context, cmd SetNewsletter) (Result, error) {
	pos, err := h.update(ctx, cmd.AccountID, cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		if !a.Registered() {
			return nil, ErrNotFound
		}
		return a.SetNewsletter(cmd.Subscribed, now)
	})
	return Result{AccountID: cmd.AccountID, Position: pos}, err
}
