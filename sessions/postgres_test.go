package sessions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/sessions"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newSession(accountID string, created time.Time) commands.Session {
	token := uuid.NewString()
	return commands.Session{ID: uuid.NewString(), AccountID: accountID, TokenHash: commands.HashToken(token),
		CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour)}
}

func create(t *testing.T, s *sessions.Store, sess commands.Session) {
	t.Helper()
	if err := s.Create(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
}

func alive(t *testing.T, s *sessions.Store, sess commands.Session, now time.Time) bool {
	t.Helper()
	_, err := s.Find(context.Background(), sess.TokenHash, now)
	if err != nil && !errors.Is(err, commands.ErrUnauthenticated) {
		t.Fatal(err)
	}
	return err == nil
}

// TestEndAll: a password reset ends the account's sessions, also one a
// racing login writes after EndAll returned (its LoggedIn came before the
// reset); later logins and other accounts are untouched.
func TestEndAll(t *testing.T) {
	s := sessions.New(pgtest.NewPool(t))
	ctx := context.Background()
	acct, other := uuid.NewString(), uuid.NewString()
	reset := t0.Add(time.Hour)

	before := newSession(acct, t0)
	otherAccount := newSession(other, t0)
	create(t, s, before)
	create(t, s, otherAccount)
	if err := s.EndAll(ctx, acct, reset); err != nil {
		t.Fatal(err)
	}
	racing := newSession(acct, reset.Add(-time.Millisecond)) // written late
	create(t, s, racing)
	after := newSession(acct, reset.Add(time.Millisecond))
	create(t, s, after)

	now := reset.Add(time.Minute)
	for _, c := range []struct {
		name string
		sess commands.Session
		want bool
	}{
		{"session opened before the reset", before, false},
		{"racing login's session written after the reset", racing, false},
		{"session opened after the reset", after, true},
		{"another account's session", otherAccount, true},
	} {
		if got := alive(t, s, c.sess, now); got != c.want {
			t.Errorf("%s: alive = %v, want %v", c.name, got, c.want)
		}
	}

	// An older revocation arriving late (a retry) does not move it back.
	if err := s.EndAll(ctx, acct, t0); err != nil {
		t.Fatal(err)
	}
	if alive(t, s, racing, now) {
		t.Error("an earlier EndAll revived a revoked session")
	}
}

// TestFindReturnsWhatCreateStored, the login position included.
func TestFindReturnsWhatCreateStored(t *testing.T) {
	s := sessions.New(pgtest.NewPool(t))
	withPos := newSession(uuid.NewString(), t0)
	withPos.LoginPosition = eventstore.Position{Commit: 1234, Prepare: 7}
	without := newSession(uuid.NewString(), t0)
	for _, want := range []commands.Session{withPos, without} {
		create(t, s, want)
		got, err := s.Find(context.Background(), want.TokenHash, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.AccountID != want.AccountID || got.LoginPosition != want.LoginPosition ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("Find = %+v, want %+v", got, want)
		}
	}
}

// TestKnownDevices: a device is known to its own account only, until it
// expires, fails maxFailures times or the account's sessions are ended.
func TestKnownDevices(t *testing.T) {
	s := sessions.New(pgtest.NewPool(t))
	ctx := context.Background()
	acct := uuid.NewString()
	device := func(created time.Time) commands.Device {
		d := commands.Device{AccountID: acct, TokenHash: commands.HashToken(uuid.NewString()), CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
		if err := s.AddDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	known := func(accountID string, d commands.Device, now time.Time) bool {
		t.Helper()
		ok, err := s.KnownDevice(ctx, accountID, d.TokenHash, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	d := device(t0)
	if !known(acct, d, t0.Add(time.Minute)) {
		t.Error("a fresh device is not known")
	}
	if known(uuid.NewString(), d, t0.Add(time.Minute)) {
		t.Error("a device is known to another account")
	}
	if known(acct, d, t0.Add(time.Hour)) {
		t.Error("an expired device is known")
	}

	for i := range 3 {
		if err := s.DeviceFailed(ctx, d.TokenHash, 3); err != nil {
			t.Fatal(err)
		}
		if got, want := known(acct, d, t0.Add(time.Minute)), i < 2; got != want {
			t.Errorf("after %d failures (max 3): known = %v, want %v", i+1, got, want)
		}
	}
	if err := s.DeviceFailed(ctx, d.TokenHash, 3); err != nil {
		t.Errorf("a failure of a forgotten device: %v", err)
	}

	old, later := device(t0), device(t0.Add(2*time.Minute))
	if err := s.EndAll(ctx, acct, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if known(acct, old, t0.Add(3*time.Minute)) {
		t.Error("a device known before EndAll is still known")
	}
	if !known(acct, later, t0.Add(3*time.Minute)) {
		t.Error("a device that logged in after EndAll's instant was forgotten")
	}
	n, err := s.DeleteExpired(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, int64(1); got != want {
		t.Errorf("expired rows deleted = %d, want %d (the later device)", got, want)
	}
}
