package account

import (
	"time"
)

// RequestCode issues a new code of the given purpose, voiding the previous
// one. The caller draws the code (NewCode), hashes it with CodeHasher.Hash
// for this account and purpose, and mails it only when no error is returned.
//
// The first code of a purpose is never held back. After that a new code
// needs ResendMinInterval since the last one, and at most MaxCodesPerHour
// may be issued per rolling hour to one client (client is the caller's
// client key, see VerificationCodeIssued.Client) and
// MaxCodesPerAccountHour to all clients together; otherwise *ThrottledError
// (errors.Is ErrCodeThrottled). A verified account gets no verify_email code:
// ErrAlreadyVerified.
func (a *Account) RequestCode(purpose Purpose, codeHash, client string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if !purpose.Valid() {
		return nil, ErrUnknownPurpose
	}
	if purpose == PurposeVerifyEmail && a.verified {
		return nil, ErrAlreadyVerified
	}
	if !validCodeHash(codeHash) {
		return nil, invalidArg("code hash must be a hex HMAC-SHA256")
	}
	if wait := a.CodeRetryAfter(purpose, client, now); wait > 0 {
		return nil, &ThrottledError{Purpose: purpose, Wait: wait}
	}
	issued := a.issue(a.id, purpose, codeHash, now.UTC())
	issued.Client = client
	return []Event{issued}, nil
}

// CodeRetryAfter returns how long until client may be issued a new code
// of purpose; 0 means now.
func (a *Account) CodeRetryAfter(purpose Purpose, client string, now time.Time) time.Duration {
	issued := a.issues[purpose]
	if len(issued) == 0 {
		return 0 // the first code of a purpose is never held back
	}
	wait := issued[len(issued)-1].at.Add(a.policy.ResendMinInterval).Sub(now)
	return max(wait, hourlyWait(issued, client, a.policy.MaxCodesPerHour, a.policy.MaxCodesPerAccountHour, now))
}

// hourlyWait is how long until client is under both hourly caps on
// entries (codes issued, wrong tries): perClient of its own and perAccount
// of everybody's in the last RateWindow. With n entries and a cap of
// limit, the (n-limit+1) oldest must leave the window. 0 means now.
func hourlyWait(entries []codeTry, client string, perClient, perAccount int, now time.Time) time.Duration {
	recent := pruneTriesBefore(entries, now.Add(-RateWindow))
	var mine []codeTry
	for _, e := range recent {
		if e.client == client {
			mine = append(mine, e)
		}
	}
	waitFor := func(es []codeTry, limit int) time.Duration {
		if len(es) < limit {
			return 0
		}
		return es[len(es)-limit].at.Add(RateWindow).Sub(now)
	}
	return max(waitFor(mine, perClient), waitFor(recent, perAccount), 0)
}

func (a *Account) issue(accountID string, purpose Purpose, codeHash string, now time.Time) VerificationCodeIssued {
	return VerificationCodeIssued{
		AccountID: accountID,
		Purpose:   purpose,
		CodeHash:  codeHash,
		IssuedAt:  now,
		ExpiresAt: now.Add(a.policy.CodeTTL),
	}
}

// Verify confirms the address with a verify_email code and sets the
// password of whoever holds the code: the address may have been registered
// first by somebody else, so the registration's password cannot stay. The
// caller has checked the password against the policy and hashed it;
// client is the caller's client key (see VerificationCodeRejected.Client).
//
// It returns events to append AND an error; append the events even when the
// error is not nil:
//   - right code: [AccountVerified, PasswordSetAtVerification], nil; the
//     caller ends every session and device of the account from before
//   - refused code: [VerificationCodeRejected] (for a refusal that changes
//     nothing, such as an expired or voided code, only the first of its
//     kind in a RateWindow; later ones return no event), one of ErrWrongCode,
//     ErrCodeExpired, ErrNoActiveCode (all errors.Is ErrInvalidCode, HTTP
//     400), or an *AttemptsError: ErrCodeVoided or ErrTooManyAttempts
//     (errors.Is ErrTooManyAttempts, HTTP 429)
//   - already verified or not registered: nil, ErrAlreadyVerified /
//     ErrNotRegistered
func (a *Account) Verify(h *CodeHasher, code Code, passwordHash, client string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if a.verified {
		return nil, ErrAlreadyVerified
	}
	if passwordHash == "" {
		return nil, invalidArg("password hash is empty")
	}
	now = now.UTC()
	if reject := a.checkCode(h, PurposeVerifyEmail, code, client, now); reject != nil {
		return reject.events, reject.err
	}
	return []Event{
		AccountVerified{AccountID: a.id, At: now},
		PasswordSetAtVerification{AccountID: a.id, PasswordHash: passwordHash, At: now},
	}, nil
}

// ConfirmPasswordReset sets a new password with a reset_password code. The
// caller has checked the new password against the policy and hashed it.
// Events and errors follow Verify; success gives [PasswordResetCompleted],
// which consumes the code, ends every session and clears login failures.
func (a *Account) ConfirmPasswordReset(h *CodeHasher, code Code, newPasswordHash, client string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if newPasswordHash == "" {
		return nil, invalidArg("password hash is empty")
	}
	now = now.UTC()
	if reject := a.checkCode(h, PurposeResetPassword, code, client, now); reject != nil {
		return reject.events, reject.err
	}
	return []Event{PasswordResetCompleted{AccountID: a.id, PasswordHash: newPasswordHash, At: now}}, nil
}

// RepeatsUsedCode reports whether code is the code of purpose that was
// already used (it verified the account or reset the password) and has
// not expired: a double click or a retried request repeats it, and the
// commands answer it like the success, recording nothing and counting
// nothing, when it would change nothing (the password given is the one set).
func (a *Account) RepeatsUsedCode(h *CodeHasher, purpose Purpose, code Code, now time.Time) bool {
	c := a.codes[purpose]
	return c != nil && c.used && now.Before(c.expiresAt) && h != nil && h.Matches(a.id, purpose, code, c.hash)
}

type rejection struct {
	events []Event
	err    error
}

// checkCode applies the code rules in order: the hourly limits (per client,
// then per account), an active code, the per-code limit, expiry, then the
// MAC.
func (a *Account) checkCode(h *CodeHasher, purpose Purpose, code Code, client string, now time.Time) *rejection {
	reject := func(reason RejectionReason, err error) *rejection {
		// A refusal that changes nothing is recorded once a RateWindow per
		// kind: enough for the audit trail, and anonymous callers repeating
		// it cannot grow the stream. Wrong and expired-code tries are
		// counted, so each is recorded (at most MaxWrongTriesPerHour an
		// hour per client).
		if last, ok := a.refusals[refusal{purpose, reason}]; ok && !reason.Counts() && now.Sub(last) < RateWindow {
			return &rejection{err: err}
		}
		return &rejection{
			events: []Event{VerificationCodeRejected{AccountID: a.id, Purpose: purpose, Reason: reason, At: now, Client: client}},
			err:    err,
		}
	}
	if wait := a.attemptsWait(client, now); wait > 0 {
		return reject(RejectedTooManyAttempts, &AttemptsError{Err: ErrTooManyAttempts, Wait: wait})
	}
	c := a.codes[purpose]
	switch {
	case c == nil || c.used:
		return reject(RejectedNoCode, ErrNoActiveCode)
	case c.wrongTries >= a.policy.MaxWrongTriesPerCode:
		// Only this code is void: a new one starts afresh. The wait is the
		// resend interval, the same for every account: when the code was
		// issued would tell a stand-in account (whose code is issued at
		// the first probe) from an old one.
		return reject(RejectedVoided, &AttemptsError{Err: ErrCodeVoided, Wait: a.policy.ResendMinInterval})
	case !now.Before(c.expiresAt):
		return reject(RejectedExpiredTry, ErrCodeExpired)
	case h == nil || !h.Matches(a.id, purpose, code, c.hash):
		return reject(RejectedWrong, ErrWrongCode)
	}
	return nil
}

// attemptsWait returns how long client must wait before its next code try
// is even considered: until its own tries of the last RateWindow drop
// below MaxWrongTriesPerHour and everybody's below
// MaxWrongTriesPerAccountHour. 0 means now.
func (a *Account) attemptsWait(client string, now time.Time) time.Duration {
	return hourlyWait(a.wrongTries, client, a.policy.MaxWrongTriesPerHour, a.policy.MaxWrongTriesPerAccountHour, now)
}

// CountWrongTry records a wrong code for purpose that was judged elsewhere:
// the commands answer verify on a verified account with a stand-in account
// (so that the answer does not reveal the account) and keep the two hourly
// counts of wrong tries in step with it. [VerificationCodeRejected{wrong}].
func (a *Account) CountWrongTry(purpose Purpose, client string, now time.Time) ([]Event, error) {
	if !a.registered {
		return nil, ErrNotRegistered
	}
	if !purpose.Valid() {
		return nil, ErrUnknownPurpose
	}
	return []Event{VerificationCodeRejected{AccountID: a.id, Purpose: purpose, Reason: RejectedWrong, At: now.UTC(), Client: client}}, nil
}
