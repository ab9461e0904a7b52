package account

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRegister(t *testing.T) {
	hash := testHasher.Hash(testID, PurposeVerifyEmail, code("123456"))
	tests := []struct {
		name       string
		given      []Event
		id         string
		email      Email
		pwHash     string
		codeHash   string
		wantEvents []Event
		wantErr    error
	}{
		{
			name: "new account", id: testID, email: testEmail, pwHash: "$argon2id$x", codeHash: hash,
			wantEvents: []Event{
				AccountRegistered{AccountID: testID, Email: "jane.doe@example.com", PasswordHash: "$argon2id$x", Newsletter: true, RegisteredAt: t0},
				VerificationCodeIssued{AccountID: testID, Purpose: PurposeVerifyEmail, CodeHash: hash, IssuedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)},
			},
		},
		{name: "twice", given: []Event{registered()}, id: testID, email: testEmail, pwHash: "h", codeHash: hash, wantErr: ErrAlreadyRegistered},
		{name: "bad id", id: "42", email: testEmail, pwHash: "h", codeHash: hash, wantErr: ErrInvalidArgument},
		{name: "no email", id: testID, pwHash: "h", codeHash: hash, wantErr: ErrInvalidArgument},
		{name: "no password hash", id: testID, email: testEmail, codeHash: hash, wantErr: ErrInvalidArgument},
		{name: "plaintext code instead of hash", id: testID, email: testEmail, pwHash: "h", codeHash: "123456", wantErr: ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := given(tt.given...).Register(tt.id, tt.email, tt.pwHash, true, tt.codeHash, t0)
			then(t, got, err, tt.wantEvents, tt.wantErr)
		})
	}
}

func TestFoldState(t *testing.T) {
	a := given(registered(), issued(PurposeVerifyEmail, "111111", t0), verified(at(time.Minute)),
		NewsletterSubscribed{AccountID: testID, At: at(2 * time.Minute)},
		loggedIn("s1", at(3*time.Minute)), loggedIn("s2", at(4*time.Minute)),
		LoggedOut{AccountID: testID, SessionID: "s1", At: at(5 * time.Minute)},
		PasswordRehashed{AccountID: testID, PasswordHash: "$argon2id$up", At: at(6 * time.Minute)})
	if got, want := a.Version(), 8; got != want {
		t.Fatalf("Version = %d, want %d", got, want)
	}
	if a.ID() != testID || a.Email() != testEmail || !a.Registered() || !a.Verified() || !a.Subscribed() {
		t.Fatalf("state = %+v", a)
	}
	if got, want := a.PasswordHash(), "$argon2id$up"; got != want {
		t.Fatalf("PasswordHash = %q, want %q", got, want)
	}
	if a.HasSession("s1") || !a.HasSession("s2") {
		t.Fatal("sessions wrong after logout")
	}
	a.Apply(PasswordResetCompleted{AccountID: testID, PasswordHash: "$argon2id$new", At: at(7 * time.Minute)})
	if a.HasSession("s2") || a.PasswordHash() != "$argon2id$new" {
		t.Fatal("a password reset must end every session and set the hash")
	}
	if got := FromHistory(Policy{}, nil).Policy(); got != DefaultPolicy() {
		t.Fatalf("zero policy gives %+v, want defaults", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	bad := Policy{LoginBaseDelay: time.Minute, LoginMaxDelay: time.Second, ResendMinInterval: -1}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("error = %v, want ErrInvalidArgument", err)
	}
	// Every problem is reported, not just the first.
	if got, want := strings.Count(err.Error(), "\n")+1, 7; got != want {
		t.Fatalf("%d problems reported, want %d:\n%v", got, want, err)
	}
}
