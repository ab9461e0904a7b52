package account

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// snapshotHistory touches every part of the state a snapshot carries.
func snapshotHistory() []Event {
	return cat(
		[]Event{registered(), issued(PurposeVerifyEmail, "123456", at(0))},
		wrongTries(PurposeVerifyEmail, 2, at(time.Minute)),
		[]Event{
			VerificationCodeRejected{AccountID: testID, Purpose: PurposeVerifyEmail, Reason: RejectedExpired, At: at(2 * time.Minute), Client: "c1"},
			verified(at(3 * time.Minute)),
			PasswordSetAtVerification{AccountID: testID, PasswordHash: "$argon2id$new", At: at(3 * time.Minute)},
			loggedIn("s1", at(4*time.Minute)), loggedIn("s2", at(5*time.Minute)),
			LoggedOut{AccountID: testID, SessionID: "s1", At: at(6 * time.Minute)},
			failed(at(7 * time.Minute)), failed(at(8 * time.Minute)),
			NewsletterSubscribed{AccountID: testID, At: at(9 * time.Minute)},
			VideoDownloaded{AccountID: testID, VideoID: "v", Format: "f", At: at(10 * time.Minute)},
			issued(PurposeResetPassword, "654321", at(11*time.Minute)),
			failed(at(12 * time.Minute)),
		})
}

// TestSnapshotThenEventsEqualsTheFold: for every split of a history,
// restoring the snapshot of the first part and applying the rest gives
// the state the whole fold gives, and the decisions agree.
func TestSnapshotThenEventsEqualsTheFold(t *testing.T) {
	history := snapshotHistory()
	whole := given(history...)
	want, err := EncodeSnapshot(whole)
	if err != nil {
		t.Fatal(err)
	}
	for split := 0; split <= len(history); split++ {
		data, err := EncodeSnapshot(given(history[:split]...))
		if err != nil {
			t.Fatal(err)
		}
		a, err := DecodeSnapshot(DefaultPolicy(), data)
		if err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		for _, e := range history[split:] {
			a.Apply(e)
		}
		got, err := EncodeSnapshot(a)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("split %d:\n got %s\nwant %s", split, got, want)
		}
		now := at(13 * time.Minute)
		if g, w := a.LoginRetryAfter(now), whole.LoginRetryAfter(now); g != w {
			t.Errorf("split %d: login delay %v, want %v", split, g, w)
		}
		if a.Version() != len(history) || !a.HasSession("s2") || a.HasSession("s1") || a.PasswordHash() != "$argon2id$new" {
			t.Errorf("split %d: version %d, sessions s1 %v s2 %v, hash %q", split, a.Version(), a.HasSession("s1"), a.HasSession("s2"), a.PasswordHash())
		}
	}
}

func TestDecodeSnapshotRefusesGarbage(t *testing.T) {
	for _, data := range []string{"", "[]", `{"version":-1}`, `{"registered":true,"id":"nope"}`, "{}\n12 s1;not-a-time s2;"} {
		if _, err := DecodeSnapshot(DefaultPolicy(), []byte(data)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: got %v, want ErrInvalidArgument", data, err)
		}
	}
}

// TestOldSessionsAreForgotten: a login forgets the sessions opened more
// than MaxSessionAge before it (they have expired), so an account's state
// does not grow with its logins; younger ones stay open.
func TestOldSessionsAreForgotten(t *testing.T) {
	a := given(registered(), verified(at(0)), loggedIn("old", at(time.Hour)), loggedIn("young", at(MaxSessionAge)),
		loggedIn("new", at(MaxSessionAge+2*time.Hour)))
	if a.HasSession("old") || !a.HasSession("young") || !a.HasSession("new") {
		t.Fatalf("sessions old %v young %v new %v; want false true true", a.HasSession("old"), a.HasSession("young"), a.HasSession("new"))
	}
	if _, err := a.Logout("old", at(MaxSessionAge+3*time.Hour)); !errors.Is(err, ErrUnknownSession) {
		t.Fatalf("logout of a forgotten session: got %v, want ErrUnknownSession", err)
	}
}
