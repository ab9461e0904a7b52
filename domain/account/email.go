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
	// The address must be a plain addr-spec, nothing around it and nothing
	// quoted, so that one mailbox has one spelling (issue 10, item 4).
	EmailDisplayName       = "display_name"
	EmailAngleBrackets     = "angle_brackets"
	EmailQuoted            = "quoted_local_part"
	EmailEscape            = "escape"
	EmailComment           = "comment"
	EmailInvalidLocalPart  = "invalid_local_part"
	EmailNonASCIILocalPart = "non_ascii_local_part"
	EmailNonASCIIDomain    = "non_ascii_domain"
	EmailDomainLiteral     = "domain_literal"
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

// Email is a canonical address: a plain addr-spec (RFC 5322 dot-atom local
// part, ASCII host-name domain), trimmed and lower-cased, so that one
// mailbox has one spelling. That one string keys the address's claim
// (CodeHasher.ClaimStreamID) and is the mail recipient: net/mail parses it back unchanged.
// The zero value is "no address". Build it with NormaliseEmail only.
type Email struct {
	s string
}

// NormaliseEmail trims surrounding whitespace and invisible characters,
// lower-cases the address and accepts it only as a plain addr-spec:
//   - no display name, angle brackets, quoted local part, backslash escape,
//     comment or domain literal (each of which net/mail would unwrap into
//     a mailbox that already has another spelling);
//   - a dot-atom local part of ASCII letters, digits and
//     !#$%&'*+-/=?^_`{|}~, dots only between them;
//   - a domain of ASCII host-name labels (letters, digits, inner hyphens,
//     at most 63 each), with a dot. Internationalised domains are accepted
//     in their punycode form (xn--...) and refused in Unicode, since two
//     Unicode spellings can be one domain and this package may not import
//     an IDNA library to map them.
//
// Whitespace or invisible characters inside the address are rejected rather
// than silently removed, since they usually hide look-alike addresses.
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
	if err := notPlain(s); err != nil {
		return Email{}, err
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
	if err := checkDotAtom(local); err != nil {
		return Email{}, err
	}
	if domain == "" {
		return Email{}, &EmailError{EmailEmptyDomain, "needs a domain after the @"}
	}
	if err := checkDomain(domain); err != nil {
		return Email{}, err
	}
	return Email{s: s}, nil
}

// notPlain refuses the forms of RFC 5322 that wrap or quote an addr-spec.
func notPlain(s string) error {
	if i := strings.IndexAny(s, "<>"); i >= 0 {
		if strings.TrimSpace(s[:i]) != "" && s[i] == '<' {
			return &EmailError{EmailDisplayName, "must be the address alone, without a name before it"}
		}
		return &EmailError{EmailAngleBrackets, "must be the address alone, without angle brackets"}
	}
	switch {
	case strings.ContainsRune(s, '"'):
		return &EmailError{EmailQuoted, "must not quote the part before the @"}
	case strings.ContainsRune(s, '\\'):
		return &EmailError{EmailEscape, "must not contain a backslash"}
	case strings.ContainsAny(s, "()"):
		return &EmailError{EmailComment, "must not contain a comment in parentheses"}
	case strings.ContainsAny(s, "[]"):
		return &EmailError{EmailDomainLiteral, "needs a domain name after the @, not an address in brackets"}
	}
	return nil
}

// atext is RFC 5322's set of characters of an atom, besides letters and
// digits.
const atext = "!#$%&'*+-/=?^_`{|}~"

// checkDotAtom accepts a dot-atom: atoms of atext joined by single dots.
func checkDotAtom(local string) error {
	for _, r := range local {
		switch {
		case r >= utf8.RuneSelf:
			return &EmailError{EmailNonASCIILocalPart, "the part before the @ must use only ASCII letters, digits and !#$%&'*+-/=?^_`{|}~."}
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', strings.ContainsRune(atext, r):
		default:
			return &EmailError{EmailInvalidLocalPart, fmt.Sprintf("the part before the @ must not contain %q", r)}
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return &EmailError{EmailInvalidLocalPart, "the part before the @ must not start or end with a dot or have two dots in a row"}
	}
	return nil
}

// checkDomain accepts an ASCII host name with at least two labels.
func checkDomain(domain string) error {
	for _, r := range domain {
		if r >= utf8.RuneSelf {
			return &EmailError{EmailNonASCIIDomain, "write an internationalised domain in its punycode form (xn--...)"}
		}
	}
	if !strings.Contains(domain, ".") {
		return &EmailError{EmailDomainWithoutDot, "the domain must contain a dot"}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return &EmailError{EmailInvalidDomain, "the domain is not valid"}
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return &EmailError{EmailInvalidDomain, "the domain may contain only letters, digits, hyphens and dots"}
			}
		}
	}
	return nil
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

// LegacyStreamID returns the claim stream this address had in stores
// written before keyed claim streams (see LegacyEmailStreamID).
func (e Email) LegacyStreamID() string { return LegacyEmailStreamID(e.s) }
