package field_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/domain/internal/field"
)

// testError stands for a package's *FieldError.
type testError struct{ Field, Reason, Message string }

func (e *testError) Error() string { return e.Field + ": " + e.Message }

func errorf(f, reason, format string, args ...any) error {
	return &testError{Field: f, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// reason returns the reason of err ("" for nil) and checks the field name.
func reason(t *testing.T, err error, wantField string) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var te *testError
	if !errors.As(err, &te) {
		t.Fatalf("error %v was not made by the caller's errorf", err)
	}
	if te.Field != wantField {
		t.Fatalf("field = %q, want %q", te.Field, wantField)
	}
	return te.Reason
}

func TestTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NATO meets", ""},
		{strings.Repeat("é", 10), ""}, // 10 runes, 20 bytes
		{"", "empty"},
		{"bad \xff byte", "invalid_utf8"},
		{strings.Repeat("a", 11), "too_long"},
		{"two\nlines", "control_character"},
		{"tab\there", "control_character"},
	}
	for _, tt := range tests {
		if got := reason(t, field.Title(errorf, "title", tt.in, 10), "title"); got != tt.want {
			t.Errorf("Title(%q) reason = %q, want %q", tt.in, got, tt.want)
		}
	}
	err := field.Title(errorf, "title", strings.Repeat("a", 11), 10)
	if !strings.Contains(err.Error(), "over 10 characters") {
		t.Errorf("message %q does not name the limit", err)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a\nb", ""},
		{strings.Repeat("ß", 5), ""},
		{"bad \xff byte", "invalid_utf8"},
		{strings.Repeat("ß", 6), "too_long"},
	}
	for _, tt := range tests {
		if got := reason(t, field.Text(errorf, "summary", tt.in, 5), "summary"); got != tt.want {
			t.Errorf("Text(%q) reason = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLowerUUID(t *testing.T) {
	for _, ok := range []string{"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b", "00000000-0000-0000-0000-000000000000"} {
		if !field.LowerUUID(ok) {
			t.Errorf("LowerUUID(%q) = false", ok)
		}
	}
	for _, bad := range []string{
		"",
		"0192F0C1-7A3E-7C4D-8A9B-1C2D3E4F5A6B", // uppercase
		"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6",  // short
		"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6bc",
		"0192f0c17a3e-7c4d-8a9b-1c2d3e4f5a6b0", // dash moved
		"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6g",
		"{192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b",
	} {
		if field.LowerUUID(bad) {
			t.Errorf("LowerUUID(%q) = true", bad)
		}
	}
}

// TestUUID: either case is a UUID; the shape rules are LowerUUID's.
func TestUUID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6b", true},
		{"0192F0C1-7A3E-7C4D-8A9B-1C2D3E4F5A6B", true},
		{"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6", false},
		{"0192f0c17a3e-7c4d-8a9b-1c2d3e4f5a6b0", false},
		{"0192f0c1-7a3e-7c4d-8a9b-1c2d3e4f5a6g", false},
	} {
		if got := field.UUID(c.id); got != c.want {
			t.Errorf("UUID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}
