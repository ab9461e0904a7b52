package smtp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/mail/smtp"
)

func TestConfigValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := smtp.Config{
		Addr:     "mail.example.com:99999",
		From:     "not an address",
		Username: "user",
		TLS:      smtp.TLSNone,
		Timeout:  -time.Second,
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate = nil, want every problem")
	}
	for _, want := range []string{
		"port must be a number in 1..65535",
		"From \"not an address\"",
		"Password is empty",
		"clear text",
		"negative",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 5 {
		t.Errorf("Validate reported %d problems, want 5:\n%v", n, err)
	}

	err = smtp.Config{Addr: "no-port", Password: "p", TLS: smtp.TLSPolicy(42)}.Validate()
	for _, want := range []string{"not host:port", "Username is empty", "unknown TLS policy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigDefaultsAreValid(t *testing.T) {
	t.Parallel()
	if err := (smtp.Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	cfg := smtp.Config{}.WithDefaults()
	if cfg.Addr != smtp.DefaultAddr || cfg.From != smtp.DefaultFrom || cfg.Timeout != smtp.DefaultTimeout || cfg.TLS != smtp.TLSAuto {
		t.Errorf("defaults = %+v", cfg)
	}
	// Credentials in clear text are fine towards a loopback dev sink.
	if err := (smtp.Config{Addr: "127.0.0.1:1025", Username: "u", Password: "p", TLS: smtp.TLSNone}).Validate(); err != nil {
		t.Errorf("loopback with credentials and no TLS: %v", err)
	}
	if _, err := smtp.New(smtp.Config{From: "bad"}); err == nil {
		t.Error("New accepted an invalid Config")
	}
}

func TestParseTLSPolicy(t *testing.T) {
	t.Parallel()
	for _, p := range []smtp.TLSPolicy{smtp.TLSAuto, smtp.TLSOpportunistic, smtp.TLSMandatory, smtp.TLSNone} {
		got, err := smtp.ParseTLSPolicy(strings.ToUpper(p.String()))
		if err != nil || got != p {
			t.Errorf("ParseTLSPolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	if got, err := smtp.ParseTLSPolicy(""); err != nil || got != smtp.TLSAuto {
		t.Errorf("ParseTLSPolicy(\"\") = %v, %v", got, err)
	}
	if _, err := smtp.ParseTLSPolicy("sometimes"); err == nil {
		t.Error("ParseTLSPolicy accepted an unknown name")
	}
}
