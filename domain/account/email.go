package account

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on e-mail addresses (RFC 5321 path and local-part sizes).
const (
	// MaxEmailLength is the longest accepted address, in characters.
	MaxEmailLength = 254
	// MaxEmailLocalPartLength is the longest accepted local part.
	MaxEmailLocalPartLength = 64
	// maxEmailInputBytes bounds the work done on untrusted input before
	// trimming; anything longer can never become a valid address.
	maxEmailInputBytes = 4 * MaxEmailLength
)

// Stable reasons carried by *EmailError, for API error details.
const (
	EmailEmpty            = "empty"
	EmailTooLong          = "too_long"
	EmailWhitespace       = "whitespace"
	EmailInvisible        = "invisible_character"
	EmailMissingAt        = "missing_at"
	EmailMultipleAt       = "multiple_at"
	EmailEmptyLocalPart   = "empty_local_part"
	EmailLocalPartTooLong = "local_part_too_long"
	EmailEmptyDomain      = "empty_domain"
	EmailDomainWithoutDot = "domain_without_dot"
	EmailInvalidDomain    = "invalid_domain"
)

// EmailError says what is wrong with an address, without repeating it (an
// address is personal data and should not end up in logs).
type EmailError struct {
	// Reason is one of the Email* reason constants.
	Reason string
	// Message is a human readable explanation.
	Message string
}

// Error implements error.
func (e *EmailError) Error() string { return fmt.Sprintf("%s: %s", ErrInvalidEmail, e.Message) }

// Is makes errors.Is(err, ErrInvalidEmail) true.
func (e *EmailError) Is(target error) bool { return target == ErrInvalidEmail }

// Email is a normalised address: trimmed and lower-cased, so that two
// spellings of one address are one account. The zero value is "no address".
// Build it with NormaliseEmail only.
type Email struct {
	s string
}

// NormaliseEmail trims surrounding whitespace and invisible characters,
// lower-cases the address and checks its shape. Whitespace or invisible
// characters inside the address are rejected rather than silently removed,
// since they usually hide look-alike addresses.
func NormaliseEmail(raw string) (Email, error) {
	if len(raw) > maxEmailInputBytes {
		return Email{}, &EmailError{EmailTooLong, fmt.Sprintf("must be at most %d characters", MaxEmailLength)}
	}
	s := strings.TrimFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || isInvisible(r) })
	if s == "" {
		return Email{}, &EmailError{EmailEmpty, "is empty"}
	}
	s = strings.ToLower(s)
	if utf8.RuneCountInString(s) > MaxEmailLength {
		return Email{}, &EmailError{EmailTooLong, fmt.Sprintf("must be at most %d characters", MaxEmailLength)}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return Email{}, &EmailError{EmailWhitespace, "must not contain spaces"}
		case isInvisible(r) || r == utf8.RuneError:
			return Email{}, &EmailError{EmailInvisible, "must not contain invisible or control characters"}
		}
	}
	switch n := strings.Count(s, "@"); {
	case n == 0:
		return Email{}, &EmailError{EmailMissingAt, "must contain an @"}
	case n > 1:
		return Email{}, &EmailError{EmailMultipleAt, "must contain exactly one @"}
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return Email{}, &EmailError{EmailEmptyLocalPart, "needs a name before the @"}
	}
	if utf8.RuneCountInString(local) > MaxEmailLocalPartLength {
		return Email{}, &EmailError{EmailLocalPartTooLong, fmt.Sprintf("the part before the @ must be at most %d characters", MaxEmailLocalPartLength)}
	}
	if domain == "" {
		return Email{}, &EmailError{EmailEmptyDomain, "needs a domain after the @"}
	}
	if !strings.Contains(domain, ".") {
		return Email{}, &EmailError{EmailDomainWithoutDot, "the domain must contain a dot"}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return Email{}, &EmailError{EmailInvalidDomain, "the domain is not valid"}
		}
	}
	return Email{s: s}, nil
}

// isInvisible reports characters that render as nothing: control characters
// and format characters (zero-width space and joiners, BOM, bidi marks).
func isInvisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// String returns the normalised address.
func (e Email) String() string { return e.s }

// IsZero reports whether e is the zero value (no address).
func (e Email) IsZero() bool { return e.s == "" }

// LocalPart returns the part before the @, used by the password policy.
func (e Email) LocalPart() string {
	local, _, _ := strings.Cut(e.s, "@")
	return local
}

// Domain returns the part after the @.
func (e Email) Domain() string {
	_, domain, _ := strings.Cut(e.s, "@")
	return domain
}

// StreamID returns the e-mail stream that guards this address.
func (e Email) StreamID() string { return EmailStreamID(e.s) }
