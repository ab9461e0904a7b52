package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// CodeDigits is the length of a verification code.
const CodeDigits = 6

const (
	codeSpace = 1_000_000 // 10^CodeDigits
	// codeLimit is the largest multiple of codeSpace that fits in a uint32;
	// draws at or above it are discarded so every code is equally likely.
	codeLimit = (1 << 32) / codeSpace * codeSpace
	// MinSecretKeyBytes is the shortest key accepted by NewCodeHasher.
	MinSecretKeyBytes = 32
)

// Purpose says what a verification code is for. The purpose is bound into
// the code's MAC, so a code of one purpose never works for the other.
type Purpose string

// The two purposes of a verification code.
const (
	PurposeVerifyEmail   Purpose = "verify_email"
	PurposeResetPassword Purpose = "reset_password"
)

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { return p == PurposeVerifyEmail || p == PurposeResetPassword }

// RejectionReason is why a code attempt was refused (VerificationCodeRejected).
type RejectionReason string

// Rejection reasons. RejectedWrong and RejectedExpiredTry count towards the
// attempt limits (Counts): a try on an expired code is a wrong try too, so
// an account whose code expired long ago answers like any other (400s
// turning into 429s) and does not stand out from an unknown address.
const (
	RejectedWrong RejectionReason = "wrong"
	// RejectedExpiredTry is a try on an expired code, counted; it replaced
	// RejectedExpired on 2026-11-28.
	RejectedExpiredTry RejectionReason = "expired_try"
	// RejectedExpired is a try on an expired code recorded before tries on
	// expired codes counted; replayed, it still does not count, so stored
	// streams fold to the state their decisions saw.
	RejectedExpired         RejectionReason = "expired"
	RejectedVoided          RejectionReason = "voided"
	RejectedNoCode          RejectionReason = "no_code"
	RejectedTooManyAttempts RejectionReason = "too_many_attempts"
)

// Counts reports whether a refusal counts towards the attempt limits.
func (r RejectionReason) Counts() bool { return r == RejectedWrong || r == RejectedExpiredTry }

// Code is a six-digit verification code. It is a secret: fmt, slog and JSON
// print "[redacted]"; only Reveal gives the digits, for the mail body.
type Code struct {
	digits string
}

// NewCode draws a uniformly random six-digit code from crypto/rand.
func NewCode() (Code, error) { return newCodeFrom(rand.Reader) }

func newCodeFrom(r io.Reader) (Code, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Code{}, fmt.Errorf("new verification code: %w", err)
		}
		// Rejection sampling: no modulo bias.
		if v := binary.BigEndian.Uint32(b[:]); v < codeLimit {
			return Code{digits: fmt.Sprintf("%06d", v%codeSpace)}, nil
		}
	}
}

// ParseCode reads a code typed by a user (surrounding spaces are ignored).
// Anything but six ASCII digits is ErrMalformedCode.
func ParseCode(s string) (Code, error) {
	s = strings.TrimSpace(s)
	if len(s) != CodeDigits {
		return Code{}, ErrMalformedCode
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return Code{}, ErrMalformedCode
		}
	}
	return Code{digits: s}, nil
}

// Reveal returns the digits, for the mail body only.
func (c Code) Reveal() string { return c.digits }

// IsZero reports whether c is the zero value (no code).
func (c Code) IsZero() bool { return c.digits == "" }

// String hides the code from fmt's %s and %v.
func (Code) String() string { return Redacted }

// GoString hides the code from fmt's %#v.
func (Code) GoString() string { return Redacted }

// Format hides the code from every fmt verb (%d, %q, %x too).
func (Code) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue hides the code from log/slog.
func (Code) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON hides the code from encoding/json.
func (Code) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// CodeHasher computes the keyed MAC of a code that is stored instead of the
// code, so a leaked event store does not leak codes, and six digits cannot
// be brute-forced offline without the key.
type CodeHasher struct {
	key []byte
}

// NewCodeHasher returns a hasher keyed with secret (at least
// MinSecretKeyBytes bytes, e.g. from SECRET_KEY).
func NewCodeHasher(secret []byte) (*CodeHasher, error) {
	if len(secret) < MinSecretKeyBytes {
		return nil, invalidArg("secret key must be at least %d bytes", MinSecretKeyBytes)
	}
	return &CodeHasher{key: append([]byte(nil), secret...)}, nil
}

// Hash returns hex(HMAC-SHA256(key, account id, purpose, code)). The account
// id and purpose are in the MAC so a code only ever works for the account and
// purpose it was issued for.
func (h *CodeHasher) Hash(accountID string, purpose Purpose, code Code) string {
	return hex.EncodeToString(h.mac(accountID, purpose, code))
}

// Matches reports in constant time whether code is the one whose Hash is
// stored.
func (h *CodeHasher) Matches(accountID string, purpose Purpose, code Code, storedHash string) bool {
	stored, err := hex.DecodeString(storedHash)
	if err != nil || code.IsZero() {
		return false
	}
	return hmac.Equal(h.mac(accountID, purpose, code), stored)
}

// Tag returns a keyed hash (HMAC-SHA256 with the server secret) of s under
// label, hex-encoded: a lookup key that does not reveal s to someone who
// can only guess candidates for it and read the database.
func (h *CodeHasher) Tag(label, s string) string {
	m := hmac.New(sha256.New, h.key)
	for _, part := range []string{"multimedia/tag/v1", label, s} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// ClaimStreamID is the stream that guards one account per address:
// "email-" + the keyed Tag of the normalised address. The key keeps the
// address out of stream names (which show up in logs, metrics and
// exports) even for someone who holds a list of candidate addresses.
func (h *CodeHasher) ClaimStreamID(e Email) string { return "email-" + h.Tag("email-claim", e.s) }

func (h *CodeHasher) mac(accountID string, purpose Purpose, code Code) []byte {
	m := hmac.New(sha256.New, h.key)
	// Length-prefixed fields: no two (id, purpose, code) triples share input.
	for _, part := range []string{"multimedia/verification-code/v1", accountID, string(purpose), code.digits} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}
