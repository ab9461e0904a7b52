package account_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
)

// Example shows how a command handler uses the aggregate: load (fold the
// stream), decide, append the events with the expected version, mail the code.
func Example() {
	now := time.Date(2026, 4, 19, 9, 0, 0, 0, time.UTC)
	hasher, _ := account.NewCodeHasher([]byte(strings.Repeat("k", 32)))
	id := "0b7e8a4e-6c1d-4f5a-9a3e-2f1c0d9e8b7a"

	email, _ := account.NormaliseEmail(" Jane.Doe@Example.com ")
	if err := account.CheckPassword("Blue-Kettle-42", email); err != nil {
		panic(err) // HTTP 422 with err.(*account.PasswordPolicyError).Violations
	}
	code, _ := account.NewCode()
	a := account.FromHistory(account.DefaultPolicy(), nil)
	events, _ := a.Register(id, email, "$argon2id$...", false, hasher.Hash(id, account.PurposeVerifyEmail, code), now)
	for _, e := range events {
		a.Apply(e) // in real life: append to account.StreamID(id) at version 0
	}
	fmt.Println(a.Version(), events[0].EventType(), events[1].EventType())
	fmt.Printf("mail log shows %v\n", code)

	events, err := a.Verify(hasher, code, "$argon2id$chosen", "", now.Add(29*time.Minute))
	fmt.Println(events[0].EventType(), err)

	_, err = a.RequestCode(account.PurposeResetPassword, "not a hash", "", now)
	fmt.Println(errors.Is(err, account.ErrInvalidArgument))
	// Output:
	// 2 AccountRegistered.v1 VerificationCodeIssued.v1
	// mail log shows [redacted]
	// AccountVerified.v1 <nil>
	// true
}
