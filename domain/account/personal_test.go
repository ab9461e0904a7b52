package account

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func newTestCipher(t *testing.T, accountID string) Cipher {
	t.Helper()
	key := make([]byte, DataKeyBytes)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c, err := NewCipher(accountID, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncodeSealedKeepsTheAddressOutOfTheBytes(t *testing.T) {
	c := newTestCipher(t, testID)
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	reg := AccountRegistered{AccountID: testID, Email: "jane@example.com", PasswordHash: "h", RegisteredAt: at}
	typ, data, err := EncodeSealed(reg, c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("jane@example.com")) {
		t.Fatalf("stored bytes hold the address: %s", data)
	}
	if !bytes.Contains(data, []byte(`"email":"pii1:`)) {
		t.Fatalf("stored bytes lack the sealed address: %s", data)
	}
	got, err := DecodeOpened(typ, data, c)
	if err != nil {
		t.Fatal(err)
	}
	if got != Event(reg) {
		t.Fatalf("got %+v, want %+v", got, reg)
	}
	erased, err := DecodeOpened(typ, data, ErasedCipher)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := erased.(AccountRegistered).Email, Erased; got != want {
		t.Fatalf("after erasure: got %q, want %q", got, want)
	}
	// Another account's key does not open it.
	if _, err := DecodeOpened(typ, data, newTestCipher(t, testID)); err == nil {
		t.Fatal("a foreign key opened the sealed address")
	}
}

func TestSealBindsTheAccount(t *testing.T) {
	key := make([]byte, DataKeyBytes)
	a, _ := NewCipher(testID, key)
	b, _ := NewCipher(strings.Replace(testID, testID[:1], "f", 1), key)
	s, err := a.Seal("198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(s); err == nil {
		t.Fatal("a value sealed for one account opened under another account's id")
	}
	if got, err := a.Open(s); err != nil || got != "198.51.100.7" {
		t.Fatalf("got %q, %v; want the address", got, err)
	}
}

func TestLegacyPlaintextPassesThrough(t *testing.T) {
	c := newTestCipher(t, testID)
	for _, ci := range []Cipher{c, ErasedCipher} {
		if got, err := ci.Open("jane@example.com"); err != nil || got != "jane@example.com" {
			t.Fatalf("got %q, %v; want the plain value", got, err)
		}
	}
}

func TestErasedCipherRefusesToSeal(t *testing.T) {
	_, _, err := EncodeSealed(AccountRegistered{AccountID: testID, Email: "jane@example.com"}, ErasedCipher)
	if got, want := err, ErrAccountErased; !errors.Is(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Events without personal fields need no key.
	if _, _, err := EncodeSealed(AccountVerified{AccountID: testID}, ErasedCipher); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func TestNewCipherChecksItsArguments(t *testing.T) {
	if _, err := NewCipher(testID, make([]byte, 16)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("short key: got %v, want ErrInvalidArgument", err)
	}
	if _, err := NewCipher("nope", make([]byte, DataKeyBytes)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad id: got %v, want ErrInvalidArgument", err)
	}
}

func TestEraseAndRelease(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	a := FromHistory(Policy{}, []Event{
		AccountRegistered{AccountID: testID, Email: "jane@example.com", PasswordHash: "h", RegisteredAt: at},
		AccountVerified{AccountID: testID, At: at},
	})
	if _, err := a.Erase(false, at); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: got %v, want ErrInvalidCredentials", err)
	}
	events, err := a.Erase(true, at)
	if err != nil || len(events) != 1 {
		t.Fatalf("got %v, %v; want one AccountErased", events, err)
	}
	a.Apply(events[0])
	if !a.Erased() || a.Registered() || a.Verified() || a.PasswordHash() != "" {
		t.Fatalf("after AccountErased: erased %v registered %v verified %v", a.Erased(), a.Registered(), a.Verified())
	}
	if err := a.CanDownload(); err == nil {
		t.Fatal("an erased account may download")
	}
	if _, err := a.Erase(true, at); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("second erasure: got %v, want ErrNotRegistered", err)
	}
	if _, err := a.Register(testID, mustEmail("jane@example.com"), "h", false, strings.Repeat("ab", 32), at); !errors.Is(err, ErrAlreadyRegistered) {
		t.Fatalf("register on an erased stream: got %v, want ErrAlreadyRegistered", err)
	}

	claim := EmailClaimFromHistory([]Event{EmailClaimed{AccountID: testID, At: at}})
	if got := claim.Release("00000000-0000-4000-8000-000000000000", at); got != nil {
		t.Fatalf("release by a stranger: got %v, want none", got)
	}
	rel := claim.Release(testID, at)
	claim.Apply(rel[0])
	if got, want := claim.ClaimedBy(), ""; got != want {
		t.Fatalf("released claim: got %q, want %q", got, want)
	}
	other := "00000000-0000-4000-8000-000000000001"
	again, err := claim.Claim(other, at)
	if err != nil || len(again) != 1 {
		t.Fatalf("claim after release: got %v, %v", again, err)
	}
}
