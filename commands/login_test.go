package commands_test

import (
	"context"
	"errors"
	"testing"

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
