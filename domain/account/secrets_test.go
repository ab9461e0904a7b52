package account

import (
	"strings"
	"testing"
	"time"
)

// TestNoPlaintextCodeInEvents runs a whole account life and checks that no
// stored event, nor any error message, carries a code or a password.
func TestNoPlaintextCodeInEvents(t *testing.T) {
	const (
		verifyCode = "987654"
		resetCode  = "864213"
		wrongCode  = "135797"
		password   = "Blue-Kettle-42"
	)
	a := given()
	var stream []Event
	var errs []error
	step := func(es []Event, err error) {
		t.Helper()
		for _, e := range es {
			a.Apply(e)
		}
		stream = append(stream, es...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	step(a.Register(testID, testEmail, "$argon2id$hash-of-password", false, testHasher.Hash(testID, verifyEmail, code(verifyCode)), t0))
	step(a.Verify(testHasher, code(wrongCode), "$argon2id$chosen", "", at(time.Minute)))
	step(a.Verify(testHasher, code(verifyCode), "$argon2id$chosen", "", at(2*time.Minute)))
	step(a.RequestCode(resetPassword, testHasher.Hash(testID, resetPassword, code(resetCode)), "", at(3*time.Minute)))
	step(a.ConfirmPasswordReset(testHasher, code(wrongCode), "$argon2id$new", "", at(4*time.Minute)))
	step(a.ConfirmPasswordReset(testHasher, code(resetCode), "$argon2id$new", "", at(5*time.Minute)))
	step(a.ConfirmPasswordReset(testHasher, code(resetCode), "$argon2id$new", "", at(6*time.Minute)))
	step(a.Login(false, "s1", at(7*time.Minute)))
	step(a.Login(true, "s1", at(8*time.Minute)))

	if got, want := len(stream), 11; got != want {
		t.Fatalf("%d events, want %d: %#v", got, want, stream)
	}
	if !a.Verified() || a.PasswordHash() != "$argon2id$new" || !a.HasSession("s1") {
		t.Fatalf("unexpected final state %+v", a)
	}
	for _, e := range stream {
		_, data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{verifyCode, resetCode, wrongCode, password} {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s JSON %s contains a plaintext secret", e.EventType(), data)
			}
		}
	}
	for _, err := range errs {
		for _, secret := range []string{verifyCode, resetCode, wrongCode, "$argon2id"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
}
