package account

import (
	"errors"
	"strings"
	"testing"
)

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
		{"254 ok", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", ""},
		{"255 too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", "", EmailTooLong},
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
	if got, want := a.StreamID(), EmailStreamID("foo@example.com"); got != want {
		t.Fatalf("StreamID = %q, want %q", got, want)
	}
}

func TestStreamIDs(t *testing.T) {
	if got, want := StreamID(testID), "account-"+testID; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// sha256("foo@example.com")
	if got, want := EmailStreamID("foo@example.com"), "email-321ba197033e81286fedb719d60d4ed5cecaed170733cb4a92013811afc0e3b6"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
