package sessions_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
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

// TestKnownDevices: a device skips the delays for its own account only,
// until it expires, fails maxFailures times in a row (counted up front, so
// parallel guesses cannot pass the limit) or a reset ends it, also when
// its row is written after the reset.
func TestKnownDevices(t *testing.T) {
	pool := pgtest.NewPool(t)
	s := sessions.New(pool)
	ctx := context.Background()
	acct := uuid.NewString()
	device := func(created time.Time) commands.Device {
		t.Helper()
		d := commands.Device{AccountID: acct, TokenHash: commands.HashToken(uuid.NewString()), CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
		if err := s.AddDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	use := func(accountID string, d commands.Device, now time.Time) bool {
		t.Helper()
		ok, err := s.UseDevice(ctx, accountID, d.TokenHash, now, 3)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	loggedIn := func(d commands.Device) {
		t.Helper()
		if err := s.DeviceLoggedIn(ctx, d.TokenHash); err != nil {
			t.Fatal(err)
		}
	}
	soon := t0.Add(time.Minute)
	d := device(t0)
	if !use(acct, d, soon) {
		t.Error("a fresh device is not usable")
	}
	loggedIn(d)
	if use(uuid.NewString(), d, soon) {
		t.Error("a device is usable for another account")
	}
	if use(acct, d, t0.Add(time.Hour)) {
		t.Error("an expired device is usable")
	}
	for i := range 4 { // max 3, nothing cleared in between
		if got, want := use(acct, d, soon), i < 3; got != want {
			t.Errorf("use %d without a successful login (max 3): usable = %v, want %v", i+1, got, want)
		}
	}
	loggedIn(d)
	if !use(acct, d, soon) {
		t.Error("a successful login did not clear the failures")
	}

	before, after := device(t0), device(t0.Add(2*time.Minute))
	if err := s.EndAll(ctx, acct, soon); err != nil {
		t.Fatal(err)
	}
	racing := device(t0.Add(30 * time.Second)) // its login raced the reset
	later := t0.Add(3 * time.Minute)
	for _, c := range []struct {
		name string
		d    commands.Device
		want bool
	}{
		{"device known before the reset", before, false},
		{"device whose row was written after the reset, from a login before it", racing, false},
		{"device known after the reset", after, true},
	} {
		if got := use(acct, c.d, later); got != c.want {
			t.Errorf("%s: usable = %v, want %v", c.name, got, c.want)
		}
	}

	many := uuid.NewString()
	for i := range 25 {
		d := commands.Device{AccountID: many, TokenHash: commands.HashToken(uuid.NewString()), CreatedAt: t0.Add(time.Duration(i) * time.Second), ExpiresAt: t0.Add(time.Hour)}
		if err := s.AddDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var kept int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM known_devices WHERE account_id = $1", many).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if got, want := kept, 20; got != want {
		t.Errorf("devices kept after 25 logins = %d, want %d", got, want)
	}

	n, err := s.DeleteExpired(ctx, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A day later every device has expired, and the revocation goes once
	// no stored session or device predates it.
	var left int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM known_devices) + (SELECT count(*) FROM session_revocations)").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 || n == 0 {
		t.Errorf("after DeleteExpired: %d rows deleted, %d devices and revocations left; want all gone", n, left)
	}
}

// TestUseDeviceInParallel: of many simultaneous uses of one device token,
// at most maxFailures get through before a successful login clears them.
func TestUseDeviceInParallel(t *testing.T) {
	s := sessions.New(pgtest.NewPool(t))
	ctx := context.Background()
	d := commands.Device{AccountID: uuid.NewString(), TokenHash: commands.HashToken(uuid.NewString()), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.AddDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		passed atomic.Int32
	)
	for range 20 {
		wg.Go(func() {
			ok, err := s.UseDevice(ctx, d.AccountID, d.TokenHash, t0.Add(time.Minute), 3)
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if got, want := passed.Load(), int32(3); got != want {
		t.Errorf("parallel uses let through = %d, want %d", got, want)
	}
}
