package commands_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/phantoms"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/sessions"
)

// TestGenerateLegacyFixture writes testdata/legacy-store.jsonl: a store
// written by main at e7452e4 (downloads on account streams), through the
// real commands. Run once with MAKE_LEGACY_FIXTURE=1; kept in history only.
func TestGenerateLegacyFixture(t *testing.T) {
	if os.Getenv("MAKE_LEGACY_FIXTURE") == "" {
		t.Skip("MAKE_LEGACY_FIXTURE unset")
	}
	ctx := context.Background()
	pool := pgtest.Connect(t, pgtest.NewDatabase(t), true)
	pg := postgres.New(ctx, pool, postgres.Options{})
	t.Cleanup(pg.Close)
	store := audit.NewChainedStore(pg)
	hasher, err := password.New(password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := account.NewCodeHasher([]byte("legacy-fixture-secret-of-32bytes"))
	if err != nil {
		t.Fatal(err)
	}
	env := &accountsEnv{mailer: &recordingMailer{}, clock: &clock{now: time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)}}
	env.accounts, err = commands.NewAccounts(commands.AccountsConfig{Store: store, Passwords: hasher, Codes: codes,
		Outbox: env.mailer, Sessions: sessions.New(pool), Phantoms: phantoms.New(pool), Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.NewContent(commands.ContentConfig{Store: store, DownloadBaseURL: "https://media.example.org/v", Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := c.PublishVideo(ctx, commands.PublishVideo{Title: "Briefing", DurationSeconds: 60, Meta: commands.Meta{Actor: "admin"},
		Formats: []video.Format{{Name: "mp4-1080p", SizeBytes: 100}, {Name: "mp4-720p", SizeBytes: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := c.PublishVideo(ctx, commands.PublishVideo{Title: "Exercise", DurationSeconds: 90, Meta: commands.Meta{Actor: "admin"},
		Formats: []video.Format{{Name: "mp4-1080p", SizeBytes: 200}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishArticle(ctx, commands.PublishArticle{Title: "Missile defence", Summary: "s", Body: "b", Meta: commands.Meta{Actor: "admin"}}); err != nil {
		t.Fatal(err)
	}
	const pw = "legacy-fixture-Passw0rd!"
	env.registerVerified(t, "alice@example.com", pw)
	env.registerVerified(t, "bob@example.com", pw)
	env.register(t, "carol@example.com", pw) // never verified
	alice, err := env.accounts.Login(ctx, commands.Login{Email: "alice@example.com", Password: pw, Meta: commands.Meta{ClientIP: "192.0.2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := env.accounts.Login(ctx, commands.Login{Email: "bob@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		env.clock.advance(time.Second)
		if _, err := env.accounts.Login(ctx, commands.Login{Email: "alice@example.com", Password: "wrong-Passw0rd!!"}); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	dl := func(acct, vid, format string) {
		t.Helper()
		env.clock.advance(time.Minute)
		if _, err := c.Download(ctx, commands.DownloadVideo{AccountID: acct, VideoID: vid, Format: format, Meta: commands.Meta{Actor: acct, ClientIP: "192.0.2.1"}}); err != nil {
			t.Fatal(err)
		}
	}
	dl(alice.AccountID, v1.VideoID, "mp4-1080p")
	dl(alice.AccountID, v1.VideoID, "mp4-720p")
	dl(bob.AccountID, v2.VideoID, "mp4-1080p")
	env.clock.advance(time.Minute)
	if _, err := env.accounts.SetNewsletter(ctx, commands.SetNewsletter{AccountID: alice.AccountID, Subscribed: true, Meta: commands.Meta{Actor: alice.AccountID}}); err != nil {
		t.Fatal(err)
	}
	env.clock.advance(25 * 24 * time.Hour) // into November
	dl(alice.AccountID, v2.VideoID, "mp4-1080p")
	dl(alice.AccountID, v1.VideoID, "mp4-1080p")
	if _, err := env.accounts.Login(ctx, commands.Login{Email: "alice@example.com", Password: pw}); err != nil {
		t.Fatal(err)
	}
	dl(alice.AccountID, v1.VideoID, "mp4-720p")
	if _, err := env.accounts.Logout(ctx, commands.Logout{Token: alice.Token, Meta: commands.Meta{Actor: alice.AccountID}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create("testdata/legacy-store.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := audit.Export(ctx, store, eventstore.Start, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exported %+v", res)
}
