package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// TestConcurrentResetsOfOneAccount: two confirms of one reset code with
// different new passwords race; exactly one wins, its password is the one
// that logs in, the stream holds one PasswordResetCompleted and still loads.
func TestConcurrentResetsOfOneAccount(t *testing.T) {
	e := newAccounts(t)
	ctx := context.Background()
	const addr = "resetting@example.com"
	e.register(t, addr, "Original-Pass-42!")
	code := e.resetCode(t, addr)
	passwords := []string{"First-New-Pass-42!", "Second-New-Pass-42!"}
	errs := make([]error, len(passwords))
	results := make([]commands.Result, len(passwords))
	var wg sync.WaitGroup
	for i, pw := range passwords {
		wg.Go(func() {
			results[i], errs[i] = e.accounts.ConfirmPasswordReset(ctx, commands.ConfirmPasswordReset{Email: addr, Code: code, NewPassword: pw})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Fatal("both resets succeeded")
		case !errors.Is(err, account.ErrInvalidCode):
			t.Errorf("losing reset %d: %v, want an invalid-code error (the code is used)", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no reset succeeded: %v", errs)
	}
	loser := 1 - winner
	if !e.loginWorks(t, addr, passwords[winner]) {
		t.Error("the winning password does not log in")
	}
	if e.loginWorks(t, addr, passwords[loser]) {
		t.Error("the losing password logs in")
	}
	if e.loginWorks(t, addr, "Original-Pass-42!") {
		t.Error("the old password still logs in")
	}
	history, err := e.store.ReadStream(ctx, account.StreamID(results[winner].AccountID), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var events []account.Event
	completed := 0
	for _, r := range history {
		ev, err := account.Decode(r.Type, r.Data)
		if err != nil {
			t.Fatalf("event %d does not decode: %v", r.Version, err)
		}
		if r.Type == account.PasswordResetCompletedType {
			completed++
		}
		events = append(events, ev)
	}
	if got, want := completed, 1; got != want {
		t.Errorf("PasswordResetCompleted events = %d, want %d", got, want)
	}
	if a := account.FromHistory(account.Policy{}, events); !a.Registered() || a.Version() != len(history) {
		t.Errorf("the account does not load from its %d events: registered %v, version %d", len(history), a.Registered(), a.Version())
	}
}
