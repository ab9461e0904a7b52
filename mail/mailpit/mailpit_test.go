package mailpit_test

import (
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/mail/mailpit"
)

func TestUniqueAddress(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		a := mailpit.UniqueAddress("Verify", "")
		if !strings.HasPrefix(a, "verify-") || !strings.HasSuffix(a, "@example.test") {
			t.Fatalf("UniqueAddress = %q", a)
		}
		if seen[a] {
			t.Fatalf("UniqueAddress repeated %q", a)
		}
		seen[a] = true
	}
	if a := mailpit.UniqueAddress("", "portal.test"); !strings.HasSuffix(a, "@portal.test") {
		t.Errorf("UniqueAddress with domain = %q", a)
	}
}

func TestEnvDefaults(t *testing.T) {
	t.Setenv("TEST_MAILPIT_URL", "")
	t.Setenv("TEST_SMTP_ADDR", "")
	if got := mailpit.URLFromEnv(); got != mailpit.DefaultURL {
		t.Errorf("URLFromEnv = %q", got)
	}
	if got := mailpit.SMTPAddrFromEnv(); got != mailpit.DefaultSMTPAddr {
		t.Errorf("SMTPAddrFromEnv = %q", got)
	}
	t.Setenv("TEST_MAILPIT_URL", "http://127.0.0.1:9999/")
	if got := mailpit.URLFromEnv(); got != "http://127.0.0.1:9999" {
		t.Errorf("URLFromEnv = %q", got)
	}
}

func TestPingAndSearch(t *testing.T) {
	t.Parallel()
	mp := mailpit.Require(t)
	hits, err := mp.Search(t.Context(), "to:"+`"`+mailpit.UniqueAddress("none", "")+`"`)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(hits) != 0 {
		t.Errorf("Search for a fresh address found %d messages", len(hits))
	}
}
