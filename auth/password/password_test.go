package password

import (
	"errors"
	"strings"
	"testing"
)

// weak are parameters below the minimum, to make old-style hashes cheaply.
var weak = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h := Hasher{Params: DefaultParams}
	enc, err := h.Hash("Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$"), true; got != want {
		t.Fatalf("encoded = %q, want PHC argon2id with OWASP params", enc)
	}
	enc2, _ := h.Hash("Correct-Horse-9")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name        string
		pw          string
		wantOK      bool
		wantRehash  bool
		wantErrLike error
	}{
		{"right", "Correct-Horse-9", true, false, nil},
		{"wrong", "correct-Horse-9", false, false, nil},
		{"empty", "", false, false, nil},
		{"too long", strings.Repeat("a", MaxPasswordBytes+1), false, false, ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.pw, enc)
			if ok != tt.wantOK || rehash != tt.wantRehash || !errors.Is(err, tt.wantErrLike) {
				t.Fatalf("got (%v, %v, %v), want (%v, %v, %v)", ok, rehash, err, tt.wantOK, tt.wantRehash, tt.wantErrLike)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	old, err := hashWith("Correct-Horse-9", weak)
	if err != nil {
		t.Fatal(err)
	}
	h := Hasher{Params: DefaultParams}
	ok, rehash, err := h.Verify("Correct-Horse-9", old)
	if got, want := [2]bool{ok, rehash}, [2]bool{true, true}; got != want || err != nil {
		t.Fatalf("got %v err %v, want %v", got, err, want)
	}
	ok, rehash, _ = h.Verify("wrong-Horse-9", old)
	if got, want := [2]bool{ok, rehash}, [2]bool{false, false}; got != want {
		t.Fatalf("wrong password: got %v, want %v", got, want)
	}
	// A hasher with the same weak params does not ask for a rehash.
	_, rehash, _ = Hasher{Params: weak}.Verify("Correct-Horse-9", old)
	if rehash {
		t.Fatal("same params: needsRehash = true")
	}
}

func TestHashRefusesWeakParams(t *testing.T) {
	if _, err := (Hasher{Params: weak}).Hash("x"); !errors.Is(err, ErrWeakParams) {
		t.Fatalf("got %v, want ErrWeakParams", err)
	}
	if _, err := New(weak); !errors.Is(err, ErrWeakParams) {
		t.Fatalf("New: got %v, want ErrWeakParams", err)
	}
	if _, err := New(DefaultParams); err != nil {
		t.Fatalf("New(DefaultParams): %v", err)
	}
	if _, err := (Hasher{}).Hash(strings.Repeat("a", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("got %v, want ErrPasswordTooLong", err)
	}
}

func TestMalformedHash(t *testing.T) {
	h := Hasher{}
	for _, enc := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1,x=3$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
	} {
		ok, _, err := h.Verify("pw", enc)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", enc, ok, err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h := Hasher{Params: DefaultParams}
	for b.Loop() {
		if _, err := h.Hash("Correct-Horse-9"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := Hasher{Params: DefaultParams}
	enc, _ := h.Hash("Correct-Horse-9")
	for b.Loop() {
		_, _, _ = h.Verify("Correct-Horse-9", enc)
	}
}

// BenchmarkDummyVerify runs next to BenchmarkVerify: the two must cost the
// same (same parameters, same key derivation), so that a login's timing does
// not tell whether the address has an account. Compared in a benchmark, not
// a timed test, which would flake on a busy machine.
func BenchmarkDummyVerify(b *testing.B) {
	h := Hasher{Params: DefaultParams}
	for b.Loop() {
		h.DummyVerify("Correct-Horse-9")
	}
}
