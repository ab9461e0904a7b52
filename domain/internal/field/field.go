package field

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errorf makes the calling package's error for a broken rule: field is the
// JSON name of the input field, reason a stable machine-readable code such
// as "too_long", and format with args the message for people.
type Errorf func(field, reason, format string, args ...any) error

// Title checks a one-line title: not empty, valid UTF-8, at most maxRunes
// characters and free of control characters (line breaks included). Reasons:
// "empty", "invalid_utf8", "too_long", "control_character".
func Title(errorf Errorf, field, s string, maxRunes int) error {
	switch {
	case s == "":
		return errorf(field, "empty", "must not be empty")
	case !utf8.ValidString(s):
		return errorf(field, "invalid_utf8", "must be valid UTF-8")
	case utf8.RuneCountInString(s) > maxRunes:
		return errorf(field, "too_long", "is over %d characters", maxRunes)
	case strings.ContainsFunc(s, unicode.IsControl):
		return errorf(field, "control_character", "must not contain control characters or line breaks")
	}
	return nil
}

// Text checks an optional free text such as a summary: valid UTF-8 and at
// most maxRunes characters; it may be empty. Reasons: "invalid_utf8",
// "too_long".
func Text(errorf Errorf, field, s string, maxRunes int) error {
	switch {
	case !utf8.ValidString(s):
		return errorf(field, "invalid_utf8", "must be valid UTF-8")
	case utf8.RuneCountInString(s) > maxRunes:
		return errorf(field, "too_long", "is over %d characters", maxRunes)
	}
	return nil
}

// LowerUUID reports whether id is the canonical lowercase text form of a
// UUID, such as "0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b". Uppercase hex is
// refused, so that one id has one spelling.
func LowerUUID(id string) bool { return uuidText(id, false) }

// UUID reports whether id is the text form of a UUID in either case.
func UUID(id string) bool { return uuidText(id, true) }

func uuidText(id string, upperToo bool) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || upperToo && 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
