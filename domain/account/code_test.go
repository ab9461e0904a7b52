package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		d := c.Reveal()
		if _, err := ParseCode(d); err != nil {
			t.Fatalf("NewCode gave %q: %v", d, err)
		}
		seen[d] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200 draws", len(seen))
	}
}

func TestNewCodeRejectsBiasedDraws(t *testing.T) {
	// The first draw is 0xFFFFFFFF (>= codeLimit, discarded); the second is
	// 1_000_042, which gives 000042.
	r := bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x00, 0x0f, 0x42, 0x6a})
	c, err := newCodeFrom(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Reveal(), "000042"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := newCodeFrom(bytes.NewReader(nil)); err == nil {
		t.Fatal("empty reader: no error")
	}
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"123456", "123456", false},
		{" 012345 ", "012345", false},
		{"12345", "", true},
		{"1234567", "", true},
		{"12a456", "", true},
		{"１２３４５６", "", true}, // full-width digits
		{"", "", true},
	}
	for _, tt := range tests {
		c, err := ParseCode(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrMalformedCode) || !errors.Is(err, ErrInvalidCode) {
				t.Errorf("ParseCode(%q) error = %v, want ErrMalformedCode", tt.in, err)
			}
			continue
		}
		if err != nil || c.Reveal() != tt.want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", tt.in, c.Reveal(), err, tt.want)
		}
	}
}

func TestCodeIsRedacted(t *testing.T) {
	c := code("987654")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("mail", "code", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("mail", "code", c)
	j, _ := json.Marshal(struct{ Code Code }{c})
	outs := []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %d %x", c, c, c, c, c, c, c),
		fmt.Sprintf("%v", struct{ C Code }{c}), fmt.Sprintf("%+v", &struct{ C Code }{c}),
		buf.String(), string(j),
	}
	for _, out := range outs {
		if strings.Contains(out, "987654") || !strings.Contains(out, Redacted) {
			t.Errorf("output %q leaks the code or is not redacted", out)
		}
	}
	if got, want := c.Reveal(), "987654"; got != want {
		t.Fatalf("Reveal = %q, want %q", got, want)
	}
}

func TestCodeHasher(t *testing.T) {
	h := testHasher
	c := code("123456")
	hash := h.Hash(testID, PurposeVerifyEmail, c)
	if len(hash) != 64 || strings.Contains(hash, "123456") {
		t.Fatalf("hash %q: want 64 hex chars without the code", hash)
	}
	other, _ := NewCodeHasher([]byte(strings.Repeat("z", 32)))
	tests := []struct {
		name    string
		h       *CodeHasher
		id      string
		purpose Purpose
		code    Code
		want    bool
	}{
		{"same", h, testID, PurposeVerifyEmail, c, true},
		{"other code", h, testID, PurposeVerifyEmail, code("123457"), false},
		{"other purpose", h, testID, PurposeResetPassword, c, false},
		{"other account", h, "11111111-1111-1111-1111-111111111111", PurposeVerifyEmail, c, false},
		{"other key", other, testID, PurposeVerifyEmail, c, false},
		{"zero code", h, testID, PurposeVerifyEmail, Code{}, false},
	}
	for _, tt := range tests {
		if got := tt.h.Matches(tt.id, tt.purpose, tt.code, hash); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
	if h.Matches(testID, PurposeVerifyEmail, c, "not hex") {
		t.Error("Matches accepted a non-hex stored hash")
	}
	if _, err := NewCodeHasher([]byte("short")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("short key: error = %v, want ErrInvalidArgument", err)
	}
}
