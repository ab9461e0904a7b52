package commands_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// answer is what a caller can see of a command's outcome: the error's
// message and, for a delay, how long.
func answer(err error) string {
	var delayed *account.RetryAfterError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &delayed):
		return fmt.Sprintf("%v [wait %v]", err, delayed.Wait)
	}
	return err.Error()
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// register registers addr and returns the verification code mailed to it.
func (e *accountsEnv) register(t *testing.T, addr, pw string) string {
	t.Helper()
	return e.mailedCode(t, func() error {
		_, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: pw})
		return err
	})
}

// resetCode asks for a password reset of addr and returns the mailed code.
func (e *accountsEnv) resetCode(t *testing.T, addr string) string {
	t.Helper()
	return e.mailedCode(t, func() error {
		_, _, err := e.accounts.RequestPasswordReset(context.Background(), commands.RequestPasswordReset{Email: addr})
		return err
	})
}

// mailedCode runs do, which must mail exactly one code, and returns it.
func (e *accountsEnv) mailedCode(t *testing.T, do func() error) string {
	t.Helper()
	before := e.mailer.count()
	if err := do(); err != nil {
		t.Fatal(err)
	}
	e.mailer.mu.Lock()
	defer e.mailer.mu.Unlock()
	if len(e.mailer.sent) != before+1 {
		t.Fatalf("%d mails sent, want 1", len(e.mailer.sent)-before)
	}
	code := sixDigits.FindString(e.mailer.sent[before].Text)
	if code == "" {
		t.Fatal("no code in the mail")
	}
	return code
}

// registerVerified registers addr and verifies it with pw.
func (e *accountsEnv) registerVerified(t *testing.T, addr, pw string) {
	t.Helper()
	code := e.register(t, addr, pw)
	if _, err := e.accounts.VerifyEmail(context.Background(), commands.VerifyEmail{Email: addr, Code: code, Password: pw}); err != nil {
		t.Fatalf("verify %s: %v", addr, err)
	}
	// Verification ends the sessions and devices of its instant and
	// before (Postgres keeps microseconds): what follows comes after it.
	e.clock.advance(time.Millisecond)
}

// firstLogin logs in to addr (verified) from a new device and returns its
// token.
func (e *accountsEnv) firstLogin(t *testing.T, addr, pw string) string {
	t.Helper()
	res, err := e.accounts.Login(context.Background(), commands.Login{Email: addr, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.DeviceToken == "" {
		t.Fatal("a first login from a device got no device token")
	}
	return res.DeviceToken
}

// wrongCode differs from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestUnknownAddressesAnswerLikeAccounts drives the same run of bad
// attempts against real accounts and addresses without one, and compares
// every answer a caller sees: 400s turn into 429s at the same try, with
// the same messages and delays, so no answer tells whether an account
// exists.
func TestUnknownAddressesAnswerLikeAccounts(t *testing.T) {
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	const pw = "Correct-Horse-42!"
	unverifiedCode := e.register(t, "unverified@example.com", pw)
	verifiedCode := e.register(t, "verified@example.com", pw)
	if _, err := e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: "verified@example.com", Code: verifiedCode, Password: pw}); err != nil {
		t.Fatal(err)
	}
	const tries = 12 // past the per-code (5) and per-hour (10) limits

	t.Run("verify", func(t *testing.T) {
		run := func(addr, code string) []string {
			var got []string
			for range tries {
				_, err := e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: addr, Code: wrongCode(code), Password: pw})
				got = append(got, answer(err))
			}
			return got
		}
		want := run("unverified@example.com", unverifiedCode)
		if want[0] == want[tries-1] {
			t.Fatalf("the real account's answers never changed: %q", want)
		}
		t.Logf("answers: %q", want)
		for _, addr := range []string{"nobody@example.com", "verified@example.com"} {
			if got := run(addr, verifiedCode); !reflect.DeepEqual(got, want) {
				t.Errorf("%s answers\n%q\nwant (as an unverified account)\n%q", addr, got, want)
			}
		}
	})

	t.Run("login", func(t *testing.T) {
		run := func(addr string) []string {
			var got []string
			for range 7 {
				_, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: "Wrong-Password-42!"})
				got = append(got, answer(err))
			}
			return got
		}
		want := run("verified@example.com")
		if got := run("nobody-else@example.com"); !reflect.DeepEqual(got, want) {
			t.Errorf("unknown address answers\n%q\nwant\n%q", got, want)
		}
		if !strings.Contains(want[6], "retry after") {
			t.Errorf("the real account was never delayed: %q", want)
		}
		t.Logf("answers: %q", want)
	})

	t.Run("password reset", func(t *testing.T) {
		run := func(addr string) []string {
			confirm := func() string {
				_, err := e.accounts.ConfirmPasswordReset(ctx, commands.ConfirmPasswordReset{Email: addr, Code: "000000", NewPassword: "Brand-New-Pass-42!"})
				return answer(err)
			}
			got := []string{confirm()} // before any reset code was asked for
			if _, _, err := e.accounts.RequestPasswordReset(ctx, commands.RequestPasswordReset{Email: addr}); err != nil {
				t.Fatal(err)
			}
			for range 6 {
				got = append(got, confirm())
			}
			return got
		}
		e.clock.advance(2 * account.RateWindow) // past the verify tries' hourly limit
		want := run("unverified@example.com")
		t.Logf("answers: %q", want)
		if got := run("nobody-at-all@example.com"); !reflect.DeepEqual(got, want) {
			t.Errorf("unknown address answers\n%q\nwant\n%q", got, want)
		}
	})
}

// TestMixedAttemptsAnswerAlike runs longer scenarios (new codes asked for
// between tries, verify and reset tries mixed under one hourly limit) on an
// unverified account, a verified one and an unknown address, and compares
// every answer.
func TestMixedAttemptsAnswerAlike(t *testing.T) {
	type step struct {
		do   string // verify, resend, reset, confirm, wait
		wait time.Duration
	}
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	scenarios := map[string][]step{
		"a new verify code after the voided one": append(repeat(6, step{do: "verify"}),
			step{do: "wait", wait: time.Minute + time.Second}, step{do: "resend"}, step{do: "verify"}, step{do: "verify"}),
		"verify and reset tries share the hourly limit": append(append(repeat(5, step{do: "verify"}), step{do: "reset"}),
			repeat(7, step{do: "confirm"})...),
	}
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	const pw = "Scenario-Pass-42!"
	n := 0
	for name, steps := range scenarios {
		t.Run(name, func(t *testing.T) {
			run := func(addr string) []string {
				var got []string
				for _, s := range steps {
					var err error
					switch s.do {
					case "verify":
						_, err = e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: addr, Code: "000000", Password: pw})
					case "resend":
						_, _, err = e.accounts.RequestVerificationCode(ctx, commands.RequestVerificationCode{Email: addr})
					case "reset":
						_, _, err = e.accounts.RequestPasswordReset(ctx, commands.RequestPasswordReset{Email: addr})
					case "confirm":
						_, err = e.accounts.ConfirmPasswordReset(ctx, commands.ConfirmPasswordReset{Email: addr, Code: "000000", NewPassword: "Another-Pass-42!"})
					case "wait":
						e.clock.advance(s.wait)
						continue
					}
					got = append(got, s.do+": "+answer(err))
				}
				return got
			}
			n++
			unverified := fmt.Sprintf("u%d@example.com", n)
			verified := fmt.Sprintf("v%d@example.com", n)
			if code := e.register(t, unverified, pw); code == "000000" {
				t.Skip("the drawn code is the test's wrong code")
			}
			vcode := e.register(t, verified, pw)
			if _, err := e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: verified, Code: vcode, Password: pw}); err != nil {
				t.Fatal(err)
			}
			start := e.clock.Now()
			want := run(unverified)
			t.Logf("answers: %q", want)
			for _, addr := range []string{verified, fmt.Sprintf("nobody%d@example.com", n)} {
				e.clock.advance(start.Sub(e.clock.Now())) // the same clock for each
				if got := run(addr); !reflect.DeepEqual(got, want) {
					t.Errorf("%s answers\n%q\nwant (as an unverified account)\n%q", addr, got, want)
				}
			}
			e.clock.advance(2 * time.Hour)
		})
	}
}

// status is what HTTP shows of a code refusal: every refused code answers
// the same 400 (codeError), too many tries the same 429.
func status(err error) string {
	switch {
	case err == nil:
		return "200"
	case errors.Is(err, account.ErrTooManyAttempts):
		return "429"
	case errors.Is(err, account.ErrInvalidCode):
		return "400"
	}
	return err.Error()
}

// TestAnOldUnverifiedAccountAnswersLikeTheRest: an account whose code
// expired long ago turns 400 into 429 at the same try as an unknown
// address and a verified account.
func TestAnOldUnverifiedAccountAnswersLikeTheRest(t *testing.T) {
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	const pw = "Scenario-Pass-42!"
	e.register(t, "stale@example.com", pw)
	vcode := e.register(t, "done@example.com", pw)
	if _, err := e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: "done@example.com", Code: vcode, Password: pw}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(2 * time.Hour) // every code has expired
	run := func(addr string) []string {
		var got []string
		for range 12 {
			_, err := e.accounts.VerifyEmail(ctx, commands.VerifyEmail{Email: addr, Code: "000000", Password: pw})
			got = append(got, status(err))
		}
		return got
	}
	want := run("stale@example.com")
	t.Logf("answers: %q", want)
	if want[0] != "400" || want[11] != "429" {
		t.Fatalf("the stale account answers %q, want 400s turning into 429s", want)
	}
	for _, addr := range []string{"done@example.com", "nobody-stale@example.com"} {
		if got := run(addr); !reflect.DeepEqual(got, want) {
			t.Errorf("%s answers %q, want %q", addr, got, want)
		}
	}
}

// TestPhantomsAreSharedByInstances: tries on an unknown address spread over
// two instances (and a restart, which a new instance is) answer as a real
// account's tries do on one.
func TestPhantomsAreSharedByInstances(t *testing.T) {
	e := newAccountsOnPostgres(t)
	ctx := context.Background()
	e.register(t, "single@example.com", "Scenario-Pass-42!")
	run := func(addr string, instances ...*commands.Accounts) []string {
		var got []string
		for i := range 8 {
			_, err := instances[i%len(instances)].VerifyEmail(ctx, commands.VerifyEmail{Email: addr, Code: "000000", Password: "Scenario-Pass-42!"})
			got = append(got, status(err))
		}
		return got
	}
	want := run("single@example.com", e.accounts)
	if got := run("spread@example.com", e.accounts, e.instance(), e.instance()); !reflect.DeepEqual(got, want) {
		t.Errorf("an unknown address over three instances answers %q, want %q", got, want)
	}
}
