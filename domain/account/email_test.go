package account

import (
	"errors"
	netmail "net/mail"
	"strings"
	"testing"
)

var (
	long189 = strings.Repeat("b", 61) + "." + strings.Repeat("b", 61) + "." + strings.Repeat("b", 61) + ".com"
	long254 = strings.Repeat("a", 64) + "@" + long189
)

// TestCanonicalEmailIsTheMailRecipient: every accepted address is a bare
// addr-spec that net/mail (the mailer's parser) reads back as exactly the
// same string, so the claim key and the recipient cannot differ.
func TestCanonicalEmailIsTheMailRecipient(t *testing.T) {
	for _, in := range []string{"Jane.Doe+news@Example.COM", "a!#$%&'*+-/=?^_`{|}~z@example.org", "x@xn--bcher-kva.example", long254} {
		e, err := NormaliseEmail(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		addr, err := netmail.ParseAddress(e.String())
		if err != nil || addr.Name != "" || addr.Address != e.String() {
			t.Errorf("net/mail reads %q as %+v, %v", e, addr, err)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       string
		wantReason string
	}{
		{"plain", "jane@example.com", "jane@example.com", ""},
		{"case folded", "Foo@Example.COM", "foo@example.com", ""},
		{"trim ascii spaces", "  jane@example.com\t\n", "jane@example.com", ""},
		{"trim unicode spaces", "\u00a0\u2003jane@example.com\u3000", "jane@example.com", ""},
		{"trim zero-width at ends", "\u200bjane@example.com\ufeff\u200d", "jane@example.com", ""},
		{"subdomain", "a.b+tag@mail.example.co.uk", "a.b+tag@mail.example.co.uk", ""},
		{"empty", "", "", EmailEmpty},
		{"only spaces", " \u200b\u00a0 ", "", EmailEmpty},
		{"space inside", "jane doe@example.com", "", EmailWhitespace},
		{"nbsp inside", "jane\u00a0doe@example.com", "", EmailWhitespace},
		{"zero-width inside", "ja\u200bne@example.com", "", EmailInvisible},
		{"bidi mark inside", "jane@exa\u202emple.com", "", EmailInvisible},
		{"control inside", "jane\x00@example.com", "", EmailInvisible},
		{"no at", "jane.example.com", "", EmailMissingAt},
		{"two at", "jane@doe@example.com", "", EmailMultipleAt},
		{"empty local", "@example.com", "", EmailEmptyLocalPart},
		{"empty domain", "jane@", "", EmailEmptyDomain},
		{"domain without dot", "jane@localhost", "", EmailDomainWithoutDot},
		{"empty label", "jane@example..com", "", EmailInvalidDomain},
		{"trailing dot", "jane@example.com.", "", EmailInvalidDomain},
		{"local too long", strings.Repeat("a", 65) + "@example.com", "", EmailLocalPartTooLong},
		{"254 ok", strings.Repeat("a", 64) + "@" + long189, long254, ""},
		{"255 too long", "a" + long254, "", EmailTooLong},
		{"label of 64", "jane@" + strings.Repeat("b", 64) + ".com", "", EmailInvalidDomain},
		// Issue 10, item 4: other spellings of x@example.org that net/mail
		// unwraps into the same mailbox.
		{"angle brackets", "<x@example.org>", "", EmailAngleBrackets},
		{"quoted local part", `"x"@example.org`, "", EmailQuoted},
		{"quoted escape", `"\x"@example.org`, "", EmailQuoted},
		{"display name", "Name <x@example.org>", "", EmailDisplayName},
		{"quoted display name", `"Name" <x@example.org>`, "", EmailDisplayName},
		{"bare escape", `x\y@example.org`, "", EmailEscape},
		{"comment", "x(comment)@example.org", "", EmailComment},
		{"comment after", "x@example.org (work)", "", EmailComment},
		{"domain literal", "x@[192.0.2.1]", "", EmailDomainLiteral},
		{"group", "friends:x@example.org;", "", EmailInvalidLocalPart},
		{"comma list", "x@example.org,y@example.org", "", EmailMultipleAt},
		{"leading dot", ".x@example.org", "", EmailInvalidLocalPart},
		{"two dots", "x..y@example.org", "", EmailInvalidLocalPart},
		{"non-ascii local", "jürgen@example.org", "", EmailNonASCIILocalPart},
		{"unicode domain refused", "x@bücher.example", "", EmailNonASCIIDomain},
		{"punycode domain accepted", "x@xn--bcher-kva.example", "x@xn--bcher-kva.example", ""},
		{"underscore domain", "x@ex_ample.org", "", EmailInvalidDomain},
		{"every atext character", "a!#$%&'*+-/=?^_`{|}~z@example.org", "a!#$%&'*+-/=?^_`{|}~z@example.org", ""},
		{"huge input", strings.Repeat("a", 1<<20), "", EmailTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormaliseEmail(tt.in)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("error = %v, want none", err)
				}
				if got.String() != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				return
			}
			var ee *EmailError
			if !errors.As(err, &ee) || !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("error = %v, want *EmailError", err)
			}
			if got, want := ee.Reason, tt.wantReason; got != want {
				t.Fatalf("reason = %q, want %q", got, want)
			}
			if strings.Contains(err.Error(), "example") {
				t.Fatalf("error %q repeats the address", err)
			}
		})
	}
}

func TestEmailParts(t *testing.T) {
	a, b := mustEmail("Foo@Example.com"), mustEmail("foo@example.com")
	if a != b {
		t.Fatalf("%q != %q: addresses must compare case-insensitively", a, b)
	}
	if got, want := a.LocalPart(), "foo"; got != want {
		t.Fatalf("LocalPart = %q, want %q", got, want)
	}
	if got, want := a.Domain(), "example.com"; got != want {
		t.Fatalf("Domain = %q, want %q", got, want)
	}
	if got, want := a.LegacyStreamID(), LegacyEmailStreamID("foo@example.com"); got != want {
		t.Fatalf("LegacyStreamID = %q, want %q", got, want)
	}
}

func TestStreamIDs(t *testing.T) {
	if got, want := StreamID(testID), "account-"+testID; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// sha256("foo@example.com"): the legacy, unkeyed name
	if got, want := LegacyEmailStreamID("foo@example.com"), "email-321ba197033e81286fedb719d60d4ed5cecaed170733cb4a92013811afc0e3b6"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
