package account

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// The password rule of the sign-up page: "at least 12 characters long, no
// spaces, include upper/lowercase letters, numbers and symbols", plus the
// limits that keep hashing cheap and refuse guessable passwords.
const (
	// MinPasswordLength is the fewest characters, counted as a person
	// sees them (grapheme clusters): "e" plus a combining accent is one.
	MinPasswordLength = 12
	// MaxPasswordLength is the most characters (grapheme clusters).
	MaxPasswordLength = 128
	// MaxPasswordBytes bounds raw input: callers reject anything longer
	// before any other work (decoding, hashing), so a huge body costs nothing.
	MaxPasswordBytes = 1024
	// minLocalPartForCheck is the shortest e-mail local part that the
	// password may not contain; shorter ones would match by chance.
	minLocalPartForCheck = 3
)

// Stable violation codes of the password policy, for API error details.
const (
	PasswordTooShort      = "too_short"
	PasswordTooLong       = "too_long"
	PasswordWhitespace    = "whitespace"
	PasswordMissingUpper  = "missing_upper"
	PasswordMissingLower  = "missing_lower"
	PasswordMissingDigit  = "missing_digit"
	PasswordMissingSymbol = "missing_symbol"
	PasswordContainsEmail = "contains_email"
	PasswordCommon        = "common_password"
	PasswordPredictable   = "predictable_pattern"
)

// Violation is one broken password rule.
type Violation struct {
	// Code is one of the Password* codes.
	Code string `json:"code"`
	// Message explains the rule to the user.
	Message string `json:"message"`
}

// PasswordPolicyError lists every rule a password breaks, so the form can
// show them all at once. It never contains the password.
type PasswordPolicyError struct {
	// Violations are in a fixed order (the order of the codes above).
	Violations []Violation
}

// Error implements error.
func (e *PasswordPolicyError) Error() string {
	codes := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		codes[i] = v.Code
	}
	return fmt.Sprintf("%s: %s", ErrWeakPassword, strings.Join(codes, ", "))
}

// Is makes errors.Is(err, ErrWeakPassword) true.
func (e *PasswordPolicyError) Is(target error) bool { return target == ErrWeakPassword }

// Codes returns the violation codes, in order.
func (e *PasswordPolicyError) Codes() []string {
	codes := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		codes[i] = v.Code
	}
	return codes
}

var violationMessages = map[string]string{
	PasswordTooShort:      fmt.Sprintf("must be at least %d characters long", MinPasswordLength),
	PasswordTooLong:       fmt.Sprintf("must be at most %d characters long", MaxPasswordLength),
	PasswordWhitespace:    "must not contain spaces or invisible characters",
	PasswordMissingUpper:  "must include an upper-case letter",
	PasswordMissingLower:  "must include a lower-case letter",
	PasswordMissingDigit:  "must include a number",
	PasswordMissingSymbol: "must include a symbol",
	PasswordContainsEmail: "must not contain your e-mail address",
	PasswordCommon:        "is too common, choose another one",
	PasswordPredictable:   "must not be a repeated character or pattern, or a keyboard or alphabet sequence",
}

func violation(code string) Violation {
	return Violation{Code: code, Message: violationMessages[code]}
}

// CheckPassword applies the password policy and returns nil or a
// *PasswordPolicyError listing every broken rule. email may be the zero Email
// when not known. Input longer than MaxPasswordBytes is refused as too_long
// without looking further.
func CheckPassword(pw string, email Email) error {
	if len(pw) > MaxPasswordBytes {
		return &PasswordPolicyError{Violations: []Violation{violation(PasswordTooLong)}}
	}
	var upper, lower, digit, symbol, space bool
	for _, r := range pw {
		switch {
		case unicode.IsSpace(r) || isInvisible(r):
			space = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsLetter(r) || unicode.IsMark(r):
			// A letter without case (e.g. CJK) or a combining mark: it
			// counts towards length only.
		default:
			// Punctuation, symbols and any other non-letter, non-digit,
			// non-space character.
			symbol = true
		}
	}
	var vs []Violation
	add := func(broken bool, code string) {
		if broken {
			vs = append(vs, violation(code))
		}
	}
	n := uniseg.GraphemeClusterCount(pw)
	add(n < MinPasswordLength, PasswordTooShort)
	add(n > MaxPasswordLength, PasswordTooLong)
	add(space, PasswordWhitespace)
	add(!upper, PasswordMissingUpper)
	add(!lower, PasswordMissingLower)
	add(!digit, PasswordMissingDigit)
	add(!symbol, PasswordMissingSymbol)
	local := email.LocalPart()
	add(utf8.RuneCountInString(local) >= minLocalPartForCheck &&
		strings.Contains(strings.ToLower(pw), local), PasswordContainsEmail)
	add(IsCommonPassword(pw), PasswordCommon)
	add(n >= MinPasswordLength && isPredictable(pw), PasswordPredictable)
	if len(vs) == 0 {
		return nil
	}
	return &PasswordPolicyError{Violations: vs}
}
