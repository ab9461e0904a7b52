package account

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

const (
	verifyEmail   = PurposeVerifyEmail
	resetPassword = PurposeResetPassword
)

func TestVerify(t *testing.T) {
	reg := registered()
	tests := []struct {
		name       string
		given      []Event
		code       string
		now        time.Time
		wantEvents []Event
		wantErr    error
	}{
		{
			name:  "right code",
			given: []Event{reg, issued(verifyEmail, "123456", t0)},
			code:  "123456", now: at(time.Minute),
			wantEvents: verifiedWith(at(time.Minute)),
		},
		{
			name:  "accepted at 29:59",
			given: []Event{reg, issued(verifyEmail, "123456", t0)},
			code:  "123456", now: at(29*time.Minute + 59*time.Second),
			wantEvents: verifiedWith(at(29*time.Minute + 59*time.Second)),
		},
		{
			name:  "rejected at 30:01",
			given: []Event{reg, issued(verifyEmail, "123456", t0)},
			code:  "123456", now: at(30*time.Minute + time.Second),
			wantEvents: []Event{rejected(verifyEmail, RejectedExpiredTry, at(30*time.Minute+time.Second))},
			wantErr:    ErrCodeExpired,
		},
		{
			name:  "wrong code",
			given: []Event{reg, issued(verifyEmail, "123456", t0)},
			code:  "654321", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedWrong, at(time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "a new code voids the previous one",
			given: []Event{reg, issued(verifyEmail, "111111", t0), issued(verifyEmail, "222222", at(2*time.Minute))},
			code:  "111111", now: at(3 * time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedWrong, at(3*time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "the new code works",
			given: []Event{reg, issued(verifyEmail, "111111", t0), issued(verifyEmail, "222222", at(2*time.Minute))},
			code:  "222222", now: at(3 * time.Minute),
			wantEvents: verifiedWith(at(3 * time.Minute)),
		},
		{
			name:  "the new code has its own expiry",
			given: []Event{reg, issued(verifyEmail, "111111", t0), issued(verifyEmail, "222222", at(20*time.Minute))},
			code:  "222222", now: at(45 * time.Minute),
			wantEvents: verifiedWith(at(45 * time.Minute)),
		},
		{
			name:  "a reset code does not verify (purpose isolation)",
			given: []Event{reg, issued(verifyEmail, "111111", t0), issued(resetPassword, "222222", t0)},
			code:  "222222", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedWrong, at(time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "same digits issued for reset only do not verify",
			given: []Event{reg, VerificationCodeIssued{AccountID: testID, Purpose: verifyEmail, CodeHash: issued(resetPassword, "123456", t0).CodeHash, IssuedAt: t0, ExpiresAt: at(30 * time.Minute)}},
			code:  "123456", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedWrong, at(time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "4 wrong tries: the 5th is still only wrong",
			given: cat([]Event{reg, issued(verifyEmail, "123456", t0)}, wrongTries(verifyEmail, 4, at(time.Second))),
			code:  "000000", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedWrong, at(time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "4 wrong tries: the right code still works",
			given: cat([]Event{reg, issued(verifyEmail, "123456", t0)}, wrongTries(verifyEmail, 4, at(time.Second))),
			code:  "123456", now: at(time.Minute),
			wantEvents: verifiedWith(at(time.Minute)),
		},
		{
			name:  "5 wrong tries void the code, even the right one fails",
			given: cat([]Event{reg, issued(verifyEmail, "123456", t0)}, wrongTries(verifyEmail, 5, at(time.Second))),
			code:  "123456", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedVoided, at(time.Minute))},
			wantErr:    ErrCodeVoided,
		},
		{
			name:  "a new code after a voided one works",
			given: cat([]Event{reg, issued(verifyEmail, "123456", t0)}, wrongTries(verifyEmail, 5, at(time.Second)), []Event{issued(verifyEmail, "777777", at(time.Minute))}),
			code:  "777777", now: at(2 * time.Minute),
			wantEvents: verifiedWith(at(2 * time.Minute)),
		},
		{
			name: "10 wrong tries in an hour across codes refuse even the right code",
			given: cat([]Event{reg, issued(verifyEmail, "111111", t0)}, wrongTries(verifyEmail, 5, at(time.Second)),
				[]Event{issued(verifyEmail, "222222", at(time.Minute))}, wrongTries(verifyEmail, 5, at(time.Minute+time.Second)),
				[]Event{issued(verifyEmail, "333333", at(2*time.Minute))}),
			code: "333333", now: at(3 * time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedTooManyAttempts, at(3*time.Minute))},
			wantErr:    ErrTooManyAttempts,
		},
		{
			name: "10 wrong tries across purposes count together",
			given: cat([]Event{reg, issued(verifyEmail, "111111", t0), issued(resetPassword, "222222", t0)},
				wrongTries(resetPassword, 5, at(time.Second)), wrongTries(verifyEmail, 4, at(time.Minute)),
				[]Event{issued(verifyEmail, "333333", at(2*time.Minute))}, wrongTries(verifyEmail, 1, at(2*time.Minute+time.Second))),
			code: "333333", now: at(3 * time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedTooManyAttempts, at(3*time.Minute))},
			wantErr:    ErrTooManyAttempts,
		},
		{
			name: "9 wrong tries in an hour: the right code works",
			given: cat([]Event{reg, issued(verifyEmail, "111111", t0)}, wrongTries(verifyEmail, 5, at(time.Second)),
				[]Event{issued(verifyEmail, "222222", at(time.Minute))}, wrongTries(verifyEmail, 4, at(time.Minute+time.Second))),
			code: "222222", now: at(3 * time.Minute),
			wantEvents: verifiedWith(at(3 * time.Minute)),
		},
		{
			name: "the hourly window rolls: refused attempts do not extend it",
			given: cat([]Event{reg, issued(verifyEmail, "111111", t0)}, wrongTries(verifyEmail, 5, at(time.Second)),
				[]Event{issued(verifyEmail, "222222", at(time.Minute))}, wrongTries(verifyEmail, 5, at(time.Minute+time.Second)),
				[]Event{rejected(verifyEmail, RejectedTooManyAttempts, at(30*time.Minute))},
				[]Event{issued(verifyEmail, "333333", at(time.Hour+50*time.Minute))}),
			code: "333333", now: at(time.Hour + 51*time.Minute),
			wantEvents: verifiedWith(at(time.Hour + 51*time.Minute)),
		},
		{
			name:    "a used code fails: already verified",
			given:   []Event{reg, issued(verifyEmail, "123456", t0), verified(at(time.Minute))},
			code:    "123456",
			now:     at(2 * time.Minute),
			wantErr: ErrAlreadyVerified,
		},
		{
			name:  "no code issued",
			given: []Event{reg},
			code:  "123456", now: at(time.Minute),
			wantEvents: []Event{rejected(verifyEmail, RejectedNoCode, at(time.Minute))},
			wantErr:    ErrNoActiveCode,
		},
		{
			name: "not registered", code: "123456", now: t0, wantErr: ErrNotRegistered,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := given(tt.given...).Verify(testHasher, code(tt.code), "$argon2id$chosen", "", tt.now)
			then(t, got, err, tt.wantEvents, tt.wantErr)
		})
	}
}

func TestCodeErrorFamilies(t *testing.T) {
	for _, err := range []error{ErrWrongCode, ErrCodeExpired, ErrNoActiveCode, ErrMalformedCode} {
		if !errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("%v: want ErrInvalidCode family (HTTP 400)", err)
		}
	}
	if !errors.Is(ErrCodeVoided, ErrTooManyAttempts) || errors.Is(ErrCodeVoided, ErrInvalidCode) {
		t.Error("ErrCodeVoided: want ErrTooManyAttempts family (HTTP 429)")
	}
}

func TestConfirmPasswordReset(t *testing.T) {
	reg := registered()
	done := func(when time.Time) PasswordResetCompleted {
		return PasswordResetCompleted{AccountID: testID, PasswordHash: "$argon2id$new", At: when}
	}
	tests := []struct {
		name       string
		given      []Event
		code       string
		now        time.Time
		wantEvents []Event
		wantErr    error
	}{
		{
			name:  "right code, unverified account",
			given: []Event{reg, issued(resetPassword, "123456", t0)},
			code:  "123456", now: at(time.Minute),
			wantEvents: []Event{done(at(time.Minute))},
		},
		{
			name:  "accepted at 29:59",
			given: []Event{reg, issued(resetPassword, "123456", t0)},
			code:  "123456", now: at(29*time.Minute + 59*time.Second),
			wantEvents: []Event{done(at(29*time.Minute + 59*time.Second))},
		},
		{
			name:  "rejected at 30:01",
			given: []Event{reg, issued(resetPassword, "123456", t0)},
			code:  "123456", now: at(30*time.Minute + time.Second),
			wantEvents: []Event{rejected(resetPassword, RejectedExpiredTry, at(30*time.Minute+time.Second))},
			wantErr:    ErrCodeExpired,
		},
		{
			name:  "a verify code does not reset (purpose isolation)",
			given: []Event{reg, issued(verifyEmail, "111111", t0), issued(resetPassword, "222222", t0)},
			code:  "111111", now: at(time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedWrong, at(time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "only a verify code issued",
			given: []Event{reg, issued(verifyEmail, "111111", t0)},
			code:  "111111", now: at(time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedNoCode, at(time.Minute))},
			wantErr:    ErrNoActiveCode,
		},
		{
			name:  "a used code fails afterwards",
			given: []Event{reg, issued(resetPassword, "123456", t0), done(at(time.Minute))},
			code:  "123456", now: at(2 * time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedNoCode, at(2*time.Minute))},
			wantErr:    ErrNoActiveCode,
		},
		{
			name:  "a new code voids the previous one",
			given: []Event{reg, issued(resetPassword, "111111", t0), issued(resetPassword, "222222", at(time.Minute))},
			code:  "111111", now: at(2 * time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedWrong, at(2*time.Minute))},
			wantErr:    ErrWrongCode,
		},
		{
			name:  "5 wrong tries void the code",
			given: cat([]Event{reg, issued(resetPassword, "123456", t0)}, wrongTries(resetPassword, 5, at(time.Second))),
			code:  "123456", now: at(time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedVoided, at(time.Minute))},
			wantErr:    ErrCodeVoided,
		},
		{
			name: "10 wrong tries in an hour refuse the right code",
			given: cat([]Event{reg, issued(resetPassword, "111111", t0)}, wrongTries(resetPassword, 5, at(time.Second)),
				[]Event{issued(resetPassword, "222222", at(time.Minute))}, wrongTries(resetPassword, 5, at(time.Minute+time.Second)),
				[]Event{issued(resetPassword, "333333", at(2*time.Minute))}),
			code: "333333", now: at(3 * time.Minute),
			wantEvents: []Event{rejected(resetPassword, RejectedTooManyAttempts, at(3*time.Minute))},
			wantErr:    ErrTooManyAttempts,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := given(tt.given...).ConfirmPasswordReset(testHasher, code(tt.code), "$argon2id$new", "", tt.now)
			then(t, got, err, tt.wantEvents, tt.wantErr)
		})
	}
	_, err := given(reg, issued(resetPassword, "123456", t0)).ConfirmPasswordReset(testHasher, code("123456"), "", "", t0)
	then(t, nil, err, nil, ErrInvalidArgument)
}

func TestRequestCode(t *testing.T) {
	reg := registered()
	hash := func(p Purpose) string { return testHasher.Hash(testID, p, code("999999")) }
	want := func(p Purpose, when time.Time) []Event { return []Event{issued(p, "999999", when)} }
	fiveIssues := []Event{reg}
	for i := range 5 {
		fiveIssues = append(fiveIssues, issued(verifyEmail, "111111", at(time.Duration(i)*time.Minute)))
	}
	tests := []struct {
		name       string
		given      []Event
		purpose    Purpose
		now        time.Time
		wantEvents []Event
		wantErr    error
		wantWait   time.Duration
	}{
		{
			name: "first reset code is never held back", given: []Event{reg, issued(verifyEmail, "111111", t0)},
			purpose: resetPassword, now: at(time.Second), wantEvents: want(resetPassword, at(time.Second)),
		},
		{
			name: "first verify code (none at registration) is never held back", given: []Event{reg},
			purpose: verifyEmail, now: t0, wantEvents: want(verifyEmail, t0),
		},
		{
			name: "resend within a minute is held back", given: []Event{reg, issued(verifyEmail, "111111", t0)},
			purpose: verifyEmail, now: at(59 * time.Second), wantErr: ErrCodeThrottled, wantWait: time.Second,
		},
		{
			name: "resend after a minute", given: []Event{reg, issued(verifyEmail, "111111", t0)},
			purpose: verifyEmail, now: at(time.Minute), wantEvents: want(verifyEmail, at(time.Minute)),
		},
		{
			name: "the minute is per purpose", given: []Event{reg, issued(verifyEmail, "111111", t0), issued(resetPassword, "111111", at(30*time.Second))},
			purpose: verifyEmail, now: at(time.Minute), wantEvents: want(verifyEmail, at(time.Minute)),
		},
		{
			name: "a 6th code in an hour is held back", given: fiveIssues,
			purpose: verifyEmail, now: at(5 * time.Minute), wantErr: ErrCodeThrottled, wantWait: 55 * time.Minute,
		},
		{
			name: "the hour rolls", given: fiveIssues,
			purpose: verifyEmail, now: at(time.Hour + time.Second), wantEvents: want(verifyEmail, at(time.Hour+time.Second)),
		},
		{
			name: "5 verify codes do not hold back the first reset code", given: fiveIssues,
			purpose: resetPassword, now: at(5 * time.Minute), wantEvents: want(resetPassword, at(5*time.Minute)),
		},
		{
			name: "verified account gets no verify code", given: []Event{reg, issued(verifyEmail, "111111", t0), verified(at(time.Minute))},
			purpose: verifyEmail, now: at(time.Hour), wantErr: ErrAlreadyVerified,
		},
		{
			name: "verified account gets a reset code", given: []Event{reg, issued(verifyEmail, "111111", t0), verified(at(time.Minute))},
			purpose: resetPassword, now: at(time.Hour), wantEvents: want(resetPassword, at(time.Hour)),
		},
		{name: "unknown purpose", given: []Event{reg}, purpose: "login", now: t0, wantErr: ErrUnknownPurpose},
		{name: "not registered", purpose: verifyEmail, now: t0, wantErr: ErrNotRegistered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := given(tt.given...)
			got, err := a.RequestCode(tt.purpose, hash(tt.purpose), "", tt.now)
			then(t, got, err, tt.wantEvents, tt.wantErr)
			if tt.wantWait > 0 {
				var te *ThrottledError
				if !errors.As(err, &te) || te.Wait != tt.wantWait || te.Purpose != tt.purpose {
					t.Fatalf("error = %#v, want *ThrottledError{Wait: %s}", err, tt.wantWait)
				}
				if got := a.CodeRetryAfter(tt.purpose, "", tt.now); got != tt.wantWait {
					t.Fatalf("CodeRetryAfter = %s, want %s", got, tt.wantWait)
				}
			}
		})
	}
	_, err := given(reg).RequestCode(resetPassword, "123456", "", t0)
	then(t, nil, err, nil, ErrInvalidArgument)
}

// TestCountWrongTry: a wrong try judged elsewhere counts toward the hourly
// limit of every code.
func TestCountWrongTry(t *testing.T) {
	got, err := given(registered()).CountWrongTry(verifyEmail, "", t0)
	then(t, got, err, []Event{rejected(verifyEmail, RejectedWrong, t0)}, nil)
	_, err = given(registered()).CountWrongTry(Purpose("other"), "", t0)
	then(t, nil, err, nil, ErrUnknownPurpose)
	_, err = given().CountWrongTry(verifyEmail, "", t0)
	then(t, nil, err, nil, ErrNotRegistered)

	// Ten counted tries refuse even a right reset code.
	history := []Event{registered(), issued(resetPassword, "123456", t0)}
	for i := range DefaultPolicy().MaxWrongTriesPerHour {
		events, _ := given(history...).CountWrongTry(verifyEmail, "", t0.Add(time.Duration(i)*time.Second))
		history = append(history, events...)
	}
	_, err = given(history...).ConfirmPasswordReset(testHasher, code("123456"), "$argon2id$new", "", at(time.Minute))
	if !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("right reset code after %d counted tries: %v, want ErrTooManyAttempts", DefaultPolicy().MaxWrongTriesPerHour, err)
	}
}

// TestRepeatedRefusalsAreRecordedOncePerHour: wrong codes are each
// recorded (they count), but a refusal that changes nothing is recorded
// once a RateWindow per kind, so repeating it cannot grow the stream.
func TestRepeatedRefusalsAreRecordedOncePerHour(t *testing.T) {
	history := []Event{registered(), issued(verifyEmail, "123456", t0)}
	var recorded []RejectionReason
	try := func(when time.Time) {
		events, err := given(history...).Verify(testHasher, code("000000"), "$argon2id$chosen", "", when)
		if err == nil {
			t.Fatal("a wrong code was accepted")
		}
		for _, e := range events {
			recorded = append(recorded, e.(VerificationCodeRejected).Reason)
		}
		history = append(history, events...)
	}
	for i := range 20 {
		try(at(time.Duration(i) * time.Second))
	}
	want := []RejectionReason{RejectedWrong, RejectedWrong, RejectedWrong, RejectedWrong, RejectedWrong, RejectedVoided}
	if !slices.Equal(recorded, want) {
		t.Errorf("recorded %v over 20 tries, want %v", recorded, want)
	}
	try(at(time.Hour + time.Minute))
	if got := recorded[len(recorded)-1]; len(recorded) != len(want)+1 || got != RejectedVoided {
		t.Errorf("an hour later: recorded %v, want one more (%s)", recorded, RejectedVoided)
	}
}

// TestTriesOnAnExpiredCodeCount: five tries on an expired code void it, as
// five wrong ones do on a live code.
func TestTriesOnAnExpiredCodeCount(t *testing.T) {
	history := []Event{registered(), issued(verifyEmail, "123456", t0)}
	late := at(31 * time.Minute)
	for i := range 5 {
		events, err := given(history...).Verify(testHasher, code("123456"), "$argon2id$chosen", "", late)
		if !errors.Is(err, ErrCodeExpired) {
			t.Fatalf("try %d on the expired code: %v, want ErrCodeExpired", i+1, err)
		}
		history = append(history, events...)
	}
	if _, err := given(history...).Verify(testHasher, code("123456"), "$argon2id$chosen", "", late); !errors.Is(err, ErrCodeVoided) {
		t.Errorf("sixth try on the expired code: %v, want ErrCodeVoided", err)
	}
}

// TestOldExpiredRefusalsDoNotCount: "expired" refusals recorded before
// tries on expired codes counted fold as they were decided: not counted.
func TestOldExpiredRefusalsDoNotCount(t *testing.T) {
	history := []Event{registered(), issued(verifyEmail, "123456", t0)}
	for i := range 7 {
		history = append(history, rejected(verifyEmail, RejectedExpired, at(31*time.Minute+time.Duration(i)*time.Second)))
	}
	_, err := given(history...).Verify(testHasher, code("123456"), "$argon2id$chosen", "", at(32*time.Minute))
	if !errors.Is(err, ErrCodeExpired) {
		t.Errorf("after 7 old expired refusals: %v, want ErrCodeExpired (not voided)", err)
	}
}

// TestTag: the tag is keyed, stable and tells labels and values apart.
func TestTag(t *testing.T) {
	other, err := NewCodeHasher([]byte("another-secret-of-at-least-32-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	a := testHasher.Tag("phantom", "ada@example.com")
	if a != testHasher.Tag("phantom", "ada@example.com") {
		t.Error("the tag is not stable")
	}
	for name, b := range map[string]string{
		"another value":  testHasher.Tag("phantom", "bob@example.com"),
		"another label":  testHasher.Tag("other", "ada@example.com"),
		"another secret": other.Tag("phantom", "ada@example.com"),
	} {
		if a == b {
			t.Errorf("%s gives the same tag", name)
		}
	}
}

// verifiedWith is what a right verify code gives at when: the account is
// verified and the password given with the code is set.
func verifiedWith(when time.Time) []Event {
	return []Event{verified(when), PasswordSetAtVerification{AccountID: testID, PasswordHash: "$argon2id$chosen", At: when}}
}

// TestHourlyLimitCountsPerClient (issue 10, item 5): a stranger's ten wrong
// tries stop the stranger, not the owner's right code from another client;
// the refusal carries the real wait; the account-wide cap still holds.
func TestHourlyLimitCountsPerClient(t *testing.T) {
	const stranger, owner = "client-stranger", "client-owner"
	history := []Event{registered(), issued(verifyEmail, "111111", t0)}
	for i := range 10 {
		if i == 5 { // the first code is void after five: a new one
			history = append(history, issued(verifyEmail, "222222", at(time.Duration(i)*time.Minute)))
		}
		r := rejected(verifyEmail, RejectedWrong, at(time.Duration(i)*time.Minute))
		r.Client = stranger
		history = append(history, r)
	}
	history = append(history, issued(verifyEmail, "333333", at(11*time.Minute)))
	now := at(12 * time.Minute)

	_, err := given(history...).Verify(testHasher, code("333333"), "$argon2id$chosen", stranger, now)
	var ae *AttemptsError
	if !errors.Is(err, ErrTooManyAttempts) || !errors.As(err, &ae) || ae.Wait != 48*time.Minute {
		t.Fatalf("the stranger's 11th try: %v (%#v), want ErrTooManyAttempts waiting 48m (until the first try is an hour old)", err, ae)
	}
	got, err := given(history...).Verify(testHasher, code("333333"), "$argon2id$chosen", owner, now)
	then(t, got, err, verifiedWith(now), nil)

	// Tries from many clients together reach the account-wide cap.
	many := []Event{registered()}
	for i := range DefaultPolicy().MaxWrongTriesPerAccountHour {
		if i%5 == 0 {
			many = append(many, issued(verifyEmail, "111111", at(time.Duration(i)*time.Second)))
		}
		r := rejected(verifyEmail, RejectedWrong, at(time.Duration(i)*time.Second))
		r.Client = fmt.Sprintf("client-%d", i)
		many = append(many, r)
	}
	many = append(many, issued(verifyEmail, "444444", at(time.Minute)))
	if _, err := given(many...).Verify(testHasher, code("444444"), "$argon2id$chosen", owner, at(2*time.Minute)); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("past the account-wide cap: %v, want ErrTooManyAttempts", err)
	}
}

// TestVoidedCodeWaitIsTheResendWait: a voided code's 429 says to wait the
// resend interval, whenever the code was issued (an account's age must not
// show).
func TestVoidedCodeWaitIsTheResendWait(t *testing.T) {
	history := []Event{registered(), issued(verifyEmail, "111111", t0)}
	for i := range 5 {
		history = append(history, rejected(verifyEmail, RejectedWrong, at(time.Duration(i)*time.Second)))
	}
	_, err := given(history...).Verify(testHasher, code("111111"), "$argon2id$chosen", "", at(20*time.Second))
	var ae *AttemptsError
	if !errors.Is(err, ErrCodeVoided) || !errors.As(err, &ae) || ae.Wait != time.Minute {
		t.Fatalf("voided code: %v (%#v), want ErrCodeVoided waiting 1m (the resend interval)", err, ae)
	}
}

// TestRepeatsUsedCode: the code that verified the account, until it
// expires, is recognised; another code or an expired one is not.
func TestRepeatsUsedCode(t *testing.T) {
	a := given(registered(), issued(verifyEmail, "123456", t0), verified(at(time.Minute)))
	if !a.RepeatsUsedCode(testHasher, verifyEmail, code("123456"), at(2*time.Minute)) {
		t.Error("the used code is not recognised")
	}
	if a.RepeatsUsedCode(testHasher, verifyEmail, code("654321"), at(2*time.Minute)) {
		t.Error("another code passes as the used one")
	}
	if a.RepeatsUsedCode(testHasher, verifyEmail, code("123456"), at(31*time.Minute)) {
		t.Error("the used code is recognised after it expired")
	}
	if given(registered(), issued(verifyEmail, "123456", t0)).RepeatsUsedCode(testHasher, verifyEmail, code("123456"), at(time.Minute)) {
		t.Error("an unused code passes as used")
	}
}

// TestVerificationSetsThePassword (issue 10, item 2): the password given
// with the code replaces the registration's, and sessions from before end.
func TestVerificationSetsThePassword(t *testing.T) {
	a := given(registered(), issued(verifyEmail, "123456", t0))
	a.Apply(verified(at(time.Minute)))
	a.Apply(loggedIn("s-before", at(time.Minute)))
	for _, e := range verifiedWith(at(2 * time.Minute)) {
		a.Apply(e)
	}
	if a.PasswordHash() != "$argon2id$chosen" || a.HasSession("s-before") || !a.Verified() {
		t.Fatalf("after verification: hash %q, old session %v, verified %v", a.PasswordHash(), a.HasSession("s-before"), a.Verified())
	}
	if _, err := given(registered(), issued(verifyEmail, "123456", t0)).Verify(testHasher, code("123456"), "", "", at(time.Minute)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("verify without a password hash: %v", err)
	}
}

// TestCodesAreCountedPerClient (found by attacking the running binary):
// a stranger who asks for the hour's five codes (voiding each with wrong
// tries) no longer keeps the owner from being sent one; only many
// networks together reach the account's backstop.
func TestCodesAreCountedPerClient(t *testing.T) {
	policy := DefaultPolicy()
	var history []Event
	history = append(history, registered())
	for i := range policy.MaxCodesPerHour {
		c := issued(resetPassword, "111111", at(time.Duration(i)*2*time.Minute))
		c.Client = "stranger"
		history = append(history, c)
	}
	now := at(time.Duration(policy.MaxCodesPerHour) * 2 * time.Minute)
	a := FromHistory(policy, history)
	if _, err := a.RequestCode(resetPassword, testHasher.Hash(testID, resetPassword, code("222222")), "stranger", now); !errors.Is(err, ErrCodeThrottled) {
		t.Fatalf("the stranger's sixth code of the hour: %v, want ErrCodeThrottled", err)
	}
	got, err := a.RequestCode(resetPassword, testHasher.Hash(testID, resetPassword, code("333333")), "owner", now)
	if err != nil || len(got) != 1 {
		t.Fatalf("the owner's code after a stranger's five: %v, %v; want one VerificationCodeIssued", got, err)
	}
	if c := got[0].(VerificationCodeIssued); c.Client != "owner" {
		t.Errorf("issued to client %q, want owner", c.Client)
	}

	// The backstop: MaxCodesPerAccountHour codes from many clients.
	history = []Event{registered()}
	for i := range policy.MaxCodesPerAccountHour {
		c := issued(resetPassword, "111111", at(time.Duration(i)*2*time.Minute))
		c.Client = fmt.Sprintf("network-%d", i)
		history = append(history, c)
	}
	now = at(time.Duration(policy.MaxCodesPerAccountHour) * 2 * time.Minute)
	wait := FromHistory(policy, history).CodeRetryAfter(resetPassword, "owner", now)
	if want := at(0).Add(RateWindow).Sub(now); wait != want {
		t.Errorf("after %d codes from as many networks the owner waits %v, want %v (until the oldest leaves the hour)", policy.MaxCodesPerAccountHour, wait, want)
	}
}
