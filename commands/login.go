package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// Login is "log in" with an address and a password.
type Login struct {
	Email    string
	Password string
	// DeviceToken is the token an earlier login from this device handed
	// out, if the client kept it; it exempts the login from the delays.
	DeviceToken string
	Meta        Meta
}

// LoginResult carries the new bearer token. The token is shown once, here;
// only its SHA-256 is stored.
type LoginResult struct {
	Token     string
	SessionID string
	ExpiresAt time.Time
	// DeviceToken is set when this login made the device known: the client
	// keeps it and sends it with later logins. Only its SHA-256 is stored.
	DeviceToken string
	Result
}

// DeviceTTL is how long a device stays known after the login that made it
// known.
const DeviceTTL = 90 * 24 * time.Hour

// Login checks the password and opens a session. An unknown address costs
// the same as a wrong password (a dummy hash is checked) and gives the same
// errors, delays included (see phantomAccounts). After repeated failures
// the account asks for growing delays; such attempts are refused before the
// password is checked. A login with the device token of a device that
// logged in to the account before is not delayed (so that someone guessing
// elsewhere cannot keep the owner out); it stops skipping them after
// LoginFailuresBeforeDelay failures in a row through it.
// Errors: account.ErrInvalidCredentials, *account.RetryAfterError
// (ErrLoginDelayed), ErrUnavailable, ErrConflict.
func (h *Accounts) Login(ctx context.Context, cmd Login) (LoginResult, error) {
	if len(cmd.Password) > account.MaxPasswordBytes {
		return LoginResult{}, account.ErrInvalidCredentials
	}
	email, err := account.NormaliseEmail(cmd.Email)
	if err != nil {
		h.passwords.DummyVerify(cmd.Password)
		return LoginResult{}, account.ErrInvalidCredentials
	}
	a, err := h.lookup(ctx, email)
	if err != nil {
		return LoginResult{}, err
	}
	var deviceHash []byte
	known := false
	if cmd.DeviceToken != "" && len(cmd.DeviceToken) <= 256 {
		deviceHash = HashToken(cmd.DeviceToken)
		owner := uuid.Nil.String() // the same query for an unknown address
		if a != nil {
			owner = a.ID()
		}
		if known, err = h.sessions.UseDevice(ctx, owner, deviceHash, h.now(), h.policy.LoginFailuresBeforeDelay); err != nil {
			return LoginResult{}, err
		}
	}
	if a == nil {
		return LoginResult{}, h.phantomLogin(ctx, email, h.clientKey(cmd.Meta), cmd.Password)
	}
	if wait := a.LoginRetryAfter(h.now()); wait > 0 && !known {
		return LoginResult{}, &account.RetryAfterError{Wait: wait}
	}
	checkedHash := a.PasswordHash()
	ok, needsRehash, err := h.passwords.Verify(cmd.Password, checkedHash)
	if err != nil {
		return LoginResult{}, fmt.Errorf("verify password: %w", err)
	}
	var rehash string
	if ok && needsRehash {
		if rehash, err = h.passwords.Hash(cmd.Password); err != nil {
			return LoginResult{}, fmt.Errorf("rehash password: %w", err)
		}
	}
	sessionID := uuid.NewString()
	var opened time.Time
	pos, err := h.update(ctx, a.ID(), cmd.Meta, func(a *account.Account, now time.Time) ([]account.Event, error) {
		opened = now
		// The password was checked against this hash; if a reset changed it
		// meanwhile, the check no longer counts.
		okNow := ok && a.PasswordHash() == checkedHash
		login := a.Login
		if known {
			login = a.LoginFromKnownDevice
		}
		events, err := login(okNow, sessionID, now)
		if err != nil || rehash == "" {
			return events, err
		}
		more, err := a.RehashPassword(rehash, now)
		return append(events, more...), err
	})
	if errors.Is(err, account.ErrAccountErased) || errors.Is(err, account.ErrNotRegistered) {
		// The account was erased while this login ran: it is gone.
		return LoginResult{}, account.ErrInvalidCredentials
	}
	if err != nil {
		return LoginResult{}, err
	}
	token, tokenHash, err := newToken()
	if err != nil {
		return LoginResult{}, err
	}
	sess := Session{ID: sessionID, AccountID: a.ID(), TokenHash: tokenHash, CreatedAt: opened, ExpiresAt: opened.Add(h.sessionTTL),
		LoginPosition: pos}
	if err := h.sessions.Create(ctx, sess); err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Token: token, SessionID: sessionID, ExpiresAt: sess.ExpiresAt,
		Result: Result{AccountID: a.ID(), Position: pos}}
	if known {
		// UseDevice counted this attempt as a failure up front.
		if err := h.sessions.DeviceLoggedIn(ctx, deviceHash); err != nil {
			slog.WarnContext(ctx, "login: could not clear the device's failures", "account_id", a.ID(), "error", err)
		}
	} else {
		res.DeviceToken = h.rememberDevice(ctx, a.ID(), opened)
	}
	return res, nil
}

// rememberDevice makes the device of a successful login known and returns
// its token. The login stands without it: a failure is logged and gives
// no token.
func (h *Accounts) rememberDevice(ctx context.Context, accountID string, at time.Time) string {
	token, hash, err := newToken()
	if err == nil {
		err = h.sessions.AddDevice(ctx, Device{AccountID: accountID, TokenHash: hash, CreatedAt: at, ExpiresAt: at.Add(DeviceTTL)})
	}
	if err != nil {
		slog.WarnContext(ctx, "login: could not remember the device; its next logins may be delayed", "account_id", accountID, "error", err)
		return ""
	}
	return token
}

// phantomLogin answers a login to an address without an account as a
// real account answers a wrong password: the same hashing work, and after
// as many failures the same growing delays (see phantomAccounts).
func (h *Accounts) phantomLogin(ctx context.Context, email account.Email, client, password string) error {
	err := h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
		if wait := p.LoginRetryAfter(h.now()); wait > 0 {
			return nil, &account.RetryAfterError{Wait: wait}
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	h.passwords.DummyVerify(password) // outside the phantoms' lock
	err = h.phantoms.decide(ctx, email, client, h.now(), func(p *account.Account) ([]account.Event, error) {
		return p.Login(false, uuid.NewString(), h.now())
	})
	if err == nil { // cannot happen: a phantom's password never matches
		err = account.ErrInvalidCredentials
	}
	return err
}

// newToken draws a 256-bit bearer token and its SHA-256.
func newToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("draw session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is how a bearer token is looked up: its SHA-256. Tokens carry
// 256 random bits, so a fast hash is enough (nothing to brute-force).
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
