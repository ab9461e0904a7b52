package account

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the account domain. Check them with errors.Is. Their
// messages never contain a code, a password or a hash, so they are safe to log
// and to show.
var (
	// ErrInvalidArgument reports a caller bug (an empty id, a missing hash),
	// never a user mistake.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidEmail is matched by every *EmailError.
	ErrInvalidEmail = errors.New("invalid email address")
	// ErrWeakPassword is matched by every *PasswordPolicyError.
	ErrWeakPassword = errors.New("password does not meet the policy")
	// ErrUnknownEventType is matched by *UnknownEventTypeError.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrUnknownPurpose reports a verification-code purpose that does not exist.
	ErrUnknownPurpose = errors.New("unknown verification code purpose")

	// ErrNotRegistered is returned by commands on an account that has no
	// AccountRegistered event yet.
	ErrNotRegistered = errors.New("account is not registered")
	// ErrAlreadyRegistered is returned by Register on an existing account.
	ErrAlreadyRegistered = errors.New("account is already registered")
	// ErrEmailTaken is returned when an address is already claimed by another
	// account. The HTTP layer must not reveal it (no enumeration).
	ErrEmailTaken = errors.New("email address is already taken")
	// ErrAlreadyVerified is returned when a verified account asks for, or
	// submits, a verify_email code.
	ErrAlreadyVerified = errors.New("account is already verified")
	// ErrNotVerified is returned when an action needs a verified account.
	ErrNotVerified = errors.New("account is not verified")

	// ErrInvalidCode is the family of "this code does not work" errors (HTTP
	// 400): ErrWrongCode, ErrCodeExpired, ErrNoActiveCode, ErrMalformedCode all
	// match it with errors.Is.
	ErrInvalidCode = errors.New("invalid verification code")
	// ErrWrongCode means the code does not match the active one.
	ErrWrongCode = fmt.Errorf("%w: wrong code", ErrInvalidCode)
	// ErrCodeExpired means the active code is past its expiry.
	ErrCodeExpired = fmt.Errorf("%w: code expired", ErrInvalidCode)
	// ErrNoActiveCode means no usable code of that purpose exists (never
	// issued, or already used).
	ErrNoActiveCode = fmt.Errorf("%w: no active code, request a new one", ErrInvalidCode)
	// ErrMalformedCode means the input is not six digits; ParseCode returns it.
	ErrMalformedCode = fmt.Errorf("%w: a code is six digits", ErrInvalidCode)

	// ErrTooManyAttempts means too many wrong codes were tried (HTTP 429):
	// per account in the rolling hour, or on one code (ErrCodeVoided).
	ErrTooManyAttempts = errors.New("too many wrong verification attempts")
	// ErrCodeVoided means the active code took too many wrong tries and no
	// longer works, even when right; a new code is needed. It matches
	// ErrTooManyAttempts.
	ErrCodeVoided = fmt.Errorf("%w: code voided, request a new one", ErrTooManyAttempts)
	// ErrCodeThrottled is matched by *ThrottledError: a new code was asked for
	// too soon or too often. The HTTP layer still answers 202.
	ErrCodeThrottled = errors.New("verification code requested too often")

	// ErrInvalidCredentials is the one answer for any bad login.
	ErrInvalidCredentials = errors.New("invalid email or password")

	// errUnverifiedLogin is the right password of an unverified account:
	// answered as ErrInvalidCredentials (see Account.Login), and also
	// ErrNotVerified for callers, such as tests, that need to tell.
	errUnverifiedLogin = fmt.Errorf("%w: %w", ErrInvalidCredentials, ErrNotVerified)
	// ErrLoginDelayed is matched by *RetryAfterError: logins are paused after
	// repeated failures.
	ErrLoginDelayed = errors.New("too many failed logins, retry later")
	// ErrUnknownSession is returned by Logout for a session that is not open.
	ErrUnknownSession = errors.New("unknown session")
)

// RetryAfterError tells the caller how long to wait before the next login
// attempt is even considered; the password is not checked meanwhile.
type RetryAfterError struct {
	// Wait is the remaining delay, for a Retry-After header.
	Wait time.Duration
}

// Error implements error.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s (retry after %s)", ErrLoginDelayed, e.Wait)
}

// Is makes errors.Is(err, ErrLoginDelayed) true.
func (e *RetryAfterError) Is(target error) bool { return target == ErrLoginDelayed }

// AttemptsError is a refusal for too many wrong codes (errors.Is
// ErrTooManyAttempts, and ErrCodeVoided for a voided code) with the real
// wait: until enough of the hour's counted tries leave the window, or, for
// a voided code, the resend interval (a new code is needed; the interval
// is the same for every account, so the wait tells nothing about it).
type AttemptsError struct {
	// Err is ErrTooManyAttempts or ErrCodeVoided.
	Err error
	// Wait is how long until a try can succeed again, for a Retry-After
	// header.
	Wait time.Duration
}

// Error implements error; the message is Err's, without the wait, so that
// it reads the same for every account.
func (e *AttemptsError) Error() string { return e.Err.Error() }

// Unwrap gives Err, so errors.Is sees ErrTooManyAttempts (and
// ErrCodeVoided).
func (e *AttemptsError) Unwrap() error { return e.Err }

// ThrottledError says a new verification code was held back and when the
// next one may be issued.
type ThrottledError struct {
	// Purpose is the purpose of the held-back code.
	Purpose Purpose
	// Wait is how long until a new code of that purpose can be issued.
	Wait time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: %s (retry after %s)", ErrCodeThrottled, e.Purpose, e.Wait)
}

// Is makes errors.Is(err, ErrCodeThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrCodeThrottled }

// UnknownEventTypeError is returned by Decode and Encode for a type name that
// is not registered in this package.
type UnknownEventTypeError struct {
	// Type is the unknown event type name.
	Type string
}

// Error implements error.
func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("%s: %q", ErrUnknownEventType, e.Type)
}

// Is makes errors.Is(err, ErrUnknownEventType) true.
func (e *UnknownEventTypeError) Is(target error) bool { return target == ErrUnknownEventType }

func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
