package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/adapters/postgres/snapshots"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// TestKnownDeviceIsNotKeptOut: someone guessing the password from
// elsewhere delays every login without a device token, but not the
// owner's device that logged in before; a device token stops working after
// five failures through it and after a password reset.
func TestKnownDeviceIsNotKeptOut(t *testing.T) {
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	const addr = "keeper@example.com"
	const pw = "Guarded-Pass-42!"
	e.registerVerified(t, addr, pw)
	device := e.firstLogin(t, addr, pw)
	login := func(password, deviceToken string) (commands.LoginResult, error) {
		return e.accounts.Login(ctx, commands.Login{Email: addr, Password: password, DeviceToken: deviceToken})
	}
	// The attacker: five wrong passwords, then delays.
	for range account.DefaultPolicy().LoginFailuresBeforeDelay {
		if _, err := login("Wrong-Guess-42!", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	for _, c := range []struct{ name, token string }{{"no device token", ""}, {"a made-up device token", "made-up-token"}} {
		if _, err := login(pw, c.token); !errors.Is(err, account.ErrLoginDelayed) {
			t.Errorf("right password with %s during the delay: %v, want ErrLoginDelayed", c.name, err)
		}
	}
	res, err := login(pw, device)
	if err != nil {
		t.Fatalf("the owner's known device during the delay: %v", err)
	}
	if res.DeviceToken != "" {
		t.Error("a known device was handed a new device token")
	}

	// Five failures through the device token forget it.
	for range 5 {
		if _, err := login("Wrong-Guess-42!", device); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password through the device: %v", err)
		}
	}
	if _, err := login(pw, device); !errors.Is(err, account.ErrLoginDelayed) {
		t.Errorf("after five failures through it the device still skips the delay: %v", err)
	}
}

// TestResetForgetsKnownDevices: after a password reset, the devices known
// before are delayed like any other.
func TestResetForgetsKnownDevices(t *testing.T) {
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	const addr = "resetdevice@example.com"
	const pw = "Before-Reset-42!"
	e.registerVerified(t, addr, pw)
	device := e.firstLogin(t, addr, pw)
	code := e.resetCode(t, addr)
	const newPw = "After-Reset-42!"
	if _, err := e.accounts.ConfirmPasswordReset(ctx, commands.ConfirmPasswordReset{Email: addr, Code: code, NewPassword: newPw}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(1) // past the reset instant
	for range account.DefaultPolicy().LoginFailuresBeforeDelay {
		if _, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: "Wrong-Guess-42!"}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: newPw, DeviceToken: device}); !errors.Is(err, account.ErrLoginDelayed) {
		t.Errorf("a device known before the reset skipped the delay: %v", err)
	}
}

// TestLoginsWhileDownloadingNeverConflict: an account that logs in many
// times at once while it downloads, as a broadcaster's tools do, gets no
// conflict: downloads are written to streams of their own, and logins that
// race for the account stream retry after a random wait.
func TestLoginsWhileDownloadingNeverConflict(t *testing.T) {
	ctx := context.Background()
	env := newContentEnv(t, true)
	e := newAccountsOn(t, env.store, sessions.New(env.pool), phantoms.New(env.pool),
		func(c *commands.AccountsConfig) { c.Snapshots, c.Keys = snapshots.New(env.pool), env.keys })
	const addr, pw = "tv-desk@example.com", "Busy-Evening-News-7"
	e.registerVerified(t, addr, pw)
	videoID := publishVideo(t, env.content)
	first, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw})
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var downloaders sync.WaitGroup
	var downloads atomic.Int64
	for range 4 {
		downloaders.Add(1)
		go func() {
			defer downloaders.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := env.content.Download(ctx, commands.DownloadVideo{AccountID: first.AccountID, VideoID: videoID, Format: "mp4-1080p"}); err != nil {
					t.Errorf("download: %v", err)
					return
				}
				downloads.Add(1)
			}
		}()
	}
	const logins = 12
	errs := make(chan error, logins)
	var wg sync.WaitGroup
	for range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw})
			errs <- err
		}()
	}
	wg.Wait()
	close(stop)
	downloaders.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("login while downloading: %v", err)
		}
	}
	if downloads.Load() == 0 {
		t.Fatal("no download ran alongside the logins")
	}
	t.Logf("%d logins alongside %d downloads", logins, downloads.Load())
}

// TestSessionsCannotOutliveTheAccountsMemory: a session lifetime longer
// than account.MaxSessionAge is refused, since the account forgets
// sessions older than that and could not record their logout.
func TestSessionsCannotOutliveTheAccountsMemory(t *testing.T) {
	err := commands.AccountsConfig{SessionTTL: account.MaxSessionAge + time.Hour}.Validate()
	if err == nil || !strings.Contains(err.Error(), "SessionTTL") {
		t.Fatalf("got %v, want a refusal naming SessionTTL", err)
	}
	if err := (commands.AccountsConfig{SessionTTL: account.MaxSessionAge}).Validate(); err != nil && strings.Contains(err.Error(), "SessionTTL") {
		t.Fatalf("MaxSessionAge itself refused: %v", err)
	}
}
