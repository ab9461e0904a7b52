package account

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testID = "0b7e8a4e-6c1d-4f5a-9a3e-2f1c0d9e8b7a"

var (
	t0         = time.Date(2026, 4, 19, 9, 0, 0, 0, time.UTC)
	testHasher = mustHasher()
	testEmail  = mustEmail("jane.doe@example.com")
)

func mustHasher() *CodeHasher {
	h, err := NewCodeHasher([]byte(strings.Repeat("k", 32)))
	if err != nil {
		panic(err)
	}
	return h
}

func mustEmail(s string) Email {
	e, err := NormaliseEmail(s)
	if err != nil {
		panic(err)
	}
	return e
}

func code(s string) Code {
	c, err := ParseCode(s)
	if err != nil {
		panic(err)
	}
	return c
}

func at(d time.Duration) time.Time { return t0.Add(d) }

// Event builders for given/then lists.

func registered() AccountRegistered {
	return AccountRegistered{AccountID: testID, Email: testEmail.String(), PasswordHash: "$argon2id$old", RegisteredAt: t0}
}

func issued(p Purpose, c string, when time.Time) VerificationCodeIssued {
	return VerificationCodeIssued{AccountID: testID, Purpose: p, CodeHash: testHasher.Hash(testID, p, code(c)),
		IssuedAt: when, ExpiresAt: when.Add(30 * time.Minute)}
}

func rejected(p Purpose, r RejectionReason, when time.Time) VerificationCodeRejected {
	return VerificationCodeRejected{AccountID: testID, Purpose: p, Reason: r, At: when}
}

func verified(when time.Time) AccountVerified { return AccountVerified{AccountID: testID, At: when} }

func failed(when time.Time) LoginFailed { return LoginFailed{AccountID: testID, At: when} }

func loggedIn(s string, when time.Time) LoggedIn {
	return LoggedIn{AccountID: testID, SessionID: s, At: when}
}

// given folds a history with the default policy.
func given(events ...Event) *Account { return FromHistory(DefaultPolicy(), events) }

// wrongTries returns n wrong-code rejections of purpose p, one a second
// from start.
func wrongTries(p Purpose, n int, start time.Time) []Event {
	var es []Event
	for i := range n {
		es = append(es, rejected(p, RejectedWrong, start.Add(time.Duration(i)*time.Second)))
	}
	return es
}

func cat(parts ...[]Event) []Event {
	var out []Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// then checks a decision's events and error.
func then(t *testing.T, gotEvents []Event, gotErr error, wantEvents []Event, wantErr error) {
	t.Helper()
	if wantErr == nil && gotErr != nil {
		t.Fatalf("error = %v, want none", gotErr)
	}
	if wantErr != nil && !errors.Is(gotErr, wantErr) {
		t.Fatalf("error = %v, want %v", gotErr, wantErr)
	}
	if len(gotEvents) == 0 && len(wantEvents) == 0 {
		return
	}
	if !reflect.DeepEqual(gotEvents, wantEvents) {
		t.Fatalf("events:\n got %#v\nwant %#v", gotEvents, wantEvents)
	}
}
