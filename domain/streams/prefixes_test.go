package streams_test

import (
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/streams"
	"github.com/multimedia-portal/multimedia/domain/video"
)

// TestEveryStreamFamilyIsListed: each stream name the domain produces
// starts with a declared prefix, and nothing foreign does.
func TestEveryStreamFamilyIsListed(t *testing.T) {
	const id = "0b0f6c4e-6a43-4d0f-9a55-2f3c1b0c2d11"
	for _, s := range []string{
		account.StreamID(id),
		account.LegacyEmailStreamID("someone@example.com"),
		claimStream(t, "someone@example.com"),
		article.StreamID(id),
		article.SlugStreamID("hello-world"),
		video.StreamID(id),
		download.StreamID(id, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
	} {
		if !streams.Owned(s) {
			t.Errorf("stream %q has no prefix in streams.Prefixes() %v", s, streams.Prefixes())
		}
	}
	for _, s := range []string{"$projections-x-result", "orders-1", "accounts-1", "download-1", "test-1"} {
		if streams.Owned(s) {
			t.Errorf("stream %q counted as the service's", s)
		}
	}
	p := streams.Prefixes()
	p[0] = "changed"
	if streams.Prefixes()[0] != "account-" {
		t.Error("Prefixes shares its slice")
	}
}

func claimStream(t *testing.T, address string) string {
	t.Helper()
	h, err := account.NewCodeHasher([]byte("a test secret of at least 32 bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := account.NormaliseEmail(address)
	if err != nil {
		t.Fatal(err)
	}
	return h.ClaimStreamID(e)
}
