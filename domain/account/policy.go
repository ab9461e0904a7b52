package account

import (
	"errors"
	"time"
)

// RateWindow is the rolling window of the hourly limits.
const RateWindow = time.Hour

// Policy holds the tunable limits of the account rules. Start from
// DefaultPolicy; Validate it once at startup.
type Policy struct {
	// CodeTTL is how long a code works ("expires in 30 minutes").
	CodeTTL time.Duration
	// MaxWrongTriesPerCode wrong tries void a code.
	MaxWrongTriesPerCode int
	// MaxWrongTriesPerHour wrong tries on one account from one client (an
	// IPv4 address or IPv6 /64) in a rolling hour, across all its codes,
	// refuse every further attempt from that client (even a right code).
	// Counting per client keeps strangers' tries from using up the owner's.
	MaxWrongTriesPerHour int
	// MaxWrongTriesPerAccountHour wrong tries on one account from all
	// clients together in a rolling hour refuse every further attempt. The
	// per-code limit and MaxCodesPerHour already bound the tries an hour to
	// MaxWrongTriesPerCode x MaxCodesPerHour per purpose (50 by default);
	// this is the backstop, and only someone who also used up the codes of
	// the hour reaches it.
	MaxWrongTriesPerAccountHour int
	// ResendMinInterval is the least time between two codes of one purpose.
	ResendMinInterval time.Duration
	// MaxCodesPerHour is the most codes of one purpose one client (an IPv4
	// address or IPv6 /64) may be issued per rolling hour. Counting per
	// client keeps a stranger who asks for codes (and voids them with wrong
	// tries) from using up the owner's.
	MaxCodesPerHour int
	// MaxCodesPerAccountHour is the most codes of one purpose per rolling
	// hour from all clients together: the backstop against many networks.
	MaxCodesPerAccountHour int
	// LoginFailuresBeforeDelay consecutive failed logins start the delay.
	LoginFailuresBeforeDelay int
	// LoginBaseDelay is the first delay; each further failure doubles it.
	LoginBaseDelay time.Duration
	// LoginMaxDelay caps the delay; there is never a permanent lock.
	LoginMaxDelay time.Duration
	// ClaimGrace is how long an address claimed by a registration whose
	// account is not written yet counts as a registration in flight. Only a
	// claim older than that (left by a crash) is taken over by the next
	// registration, so two registrations racing for one address can never
	// register it with the loser's password.
	ClaimGrace time.Duration
}

// DefaultPolicy returns the limits the product promises.
func DefaultPolicy() Policy {
	return Policy{
		CodeTTL:                     30 * time.Minute,
		MaxWrongTriesPerCode:        5,
		MaxWrongTriesPerHour:        10,
		MaxWrongTriesPerAccountHour: 50,
		ResendMinInterval:           time.Minute,
		MaxCodesPerHour:             5,
		MaxCodesPerAccountHour:      20,
		LoginFailuresBeforeDelay:    5,
		LoginBaseDelay:              time.Second,
		LoginMaxDelay:               15 * time.Minute,
		ClaimGrace:                  time.Minute,
	}
}

// Validate reports every problem of p at once.
func (p Policy) Validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, invalidArg("policy: %s", msg))
		}
	}
	check(p.CodeTTL > 0, "CodeTTL must be positive")
	check(p.MaxWrongTriesPerCode > 0, "MaxWrongTriesPerCode must be positive")
	check(p.MaxWrongTriesPerHour > 0, "MaxWrongTriesPerHour must be positive")
	check(p.MaxWrongTriesPerAccountHour >= p.MaxWrongTriesPerHour, "MaxWrongTriesPerAccountHour must be at least MaxWrongTriesPerHour")
	check(p.ResendMinInterval >= 0, "ResendMinInterval must not be negative")
	check(p.MaxCodesPerHour > 0, "MaxCodesPerHour must be positive")
	check(p.MaxCodesPerAccountHour >= p.MaxCodesPerHour, "MaxCodesPerAccountHour must be at least MaxCodesPerHour")
	check(p.LoginFailuresBeforeDelay > 0, "LoginFailuresBeforeDelay must be positive")
	check(p.LoginBaseDelay > 0, "LoginBaseDelay must be positive")
	check(p.LoginMaxDelay >= p.LoginBaseDelay, "LoginMaxDelay must be at least LoginBaseDelay")
	check(p.ClaimGrace >= 0, "ClaimGrace must not be negative")
	return errors.Join(errs...)
}
