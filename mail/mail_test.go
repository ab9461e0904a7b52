package mail_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/mail"
)

func TestMessageValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := mail.Message{To: "Ada <ada@example.test>", Subject: "a\nb"}.Validate()
	if !errors.Is(err, mail.ErrInvalidMessage) {
		t.Fatalf("Validate = %v, want ErrInvalidMessage", err)
	}
	for _, want := range []string{"bare e-mail address", "line break"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q: %v", want, err)
		}
	}
	err = mail.Message{}.Validate()
	for _, want := range []string{"empty recipient", "empty subject"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q: %v", want, err)
		}
	}
	if err := (mail.Message{To: "ada@example.test", Subject: "Hi"}).Validate(); err != nil {
		t.Errorf("valid message: %v", err)
	}
}

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", mail.ErrRejected), true},
		{fmt.Errorf("x: %w", mail.ErrInvalidMessage), true},
		{errors.New("connection refused"), false},
		{nil, false},
	}
	for _, c := range cases {
		if got := mail.IsPermanent(c.err); got != c.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRecipientDomain(t *testing.T) {
	t.Parallel()
	if got := mail.RecipientDomain("Ada@Example.TEST"); got != "example.test" {
		t.Errorf("RecipientDomain = %q", got)
	}
	if got := mail.RecipientDomain("nodomain"); got != "" {
		t.Errorf("RecipientDomain(no @) = %q", got)
	}
}

func TestMessageIDIsChecked(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"a@b", "0190f1e2-aaaa@mail.example.org"} {
		if err := (mail.Message{To: "ada@example.test", Subject: "Hi", MessageID: id}).Validate(); err != nil {
			t.Errorf("Message-ID %q: %v", id, err)
		}
	}
	for _, id := range []string{"<a@b>", "a b@c", "ab", "@b", "a@", "a@b@c", "a@b\r\nBcc: x@y"} {
		if err := (mail.Message{To: "ada@example.test", Subject: "Hi", MessageID: id}).Validate(); err == nil {
			t.Errorf("Message-ID %q accepted", id)
		}
	}
}
