package commands_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// legacyStore is an export (audit.Export) of a store written through the
// real commands by main at e7452e4, before downloads had streams of their
// own: three accounts (alice and bob verified, carol not), two videos, an
// article, logins, two failed logins, a newsletter change, a logout and six
// downloads (five by alice, two of them in October), on the account streams, in October and November 2026. Its
// generator is in the commit that added it.
const legacyStore = "testdata/legacy-store.jsonl"

// legacyPassword is the password of every account in legacyStore.
const legacyPassword = "legacy-fixture-Passw0rd!"

// legacyFacts reads what the tests check from the fixture itself: the
// account ids by address and the video ids by title.
func legacyFacts(t *testing.T) (accounts, videos map[string]string) {
	t.Helper()
	f, err := os.Open(legacyStore)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	accounts, videos = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Type string `json:"type"`
			Data struct {
				AccountID string `json:"account_id"`
				Email     string `json:"email"`
				VideoID   string `json:"video_id"`
				Title     string `json:"title"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec.Type {
		case account.AccountRegisteredType:
			accounts[rec.Data.Email] = rec.Data.AccountID
		case "VideoPublished.v1":
			videos[rec.Data.Title] = rec.Data.VideoID
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return accounts, videos
}

// TestLegacyStoreStillWorks: a store written before downloads left the
// account streams loads, verifies, projects its downloads, shows them in
// the auditors' history and state; the old accounts still log in, change
// their newsletter and download, the new download going to its own stream
// and showing after the old ones.
func TestLegacyStoreStillWorks(t *testing.T) {
	ctx := context.Background()
	env := newContentEnv(t, true)
	accounts, videos := legacyFacts(t)
	alice, briefing, exercise := accounts["alice@example.com"], videos["Briefing"], videos["Exercise"]
	if alice == "" || briefing == "" || exercise == "" {
		t.Fatalf("fixture: accounts %v, videos %v", accounts, videos)
	}

	f, err := os.Open(legacyStore)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imp, err := audit.Import(ctx, env.store, f, audit.ImportOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Events != 30 {
		t.Fatalf("imported %d events, want 30", imp.Events)
	}
	imported, err := audit.VerifyAll(ctx, env.store, nil)
	if err != nil || !imported.OK() || imported.Events != 30 {
		t.Fatalf("verify the imported log: %+v, %v", imported, err)
	}

	waiter := runProjections(t, env)
	reader := content.NewReader(env.pool)
	// wantCounts waits for the projection to pass the position of the last
	// event written (not the store's head, which another database's open
	// transaction on the same server may hold back) and checks the counts.
	wantCounts := func(last eventstore.Position, briefingWant, exerciseWant int64) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := waiter.WaitFor(wctx, last, "videos"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int64{briefing: briefingWant, exercise: exerciseWant} {
			v, err := reader.Video(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if v.Downloads != want {
				t.Errorf("video %s (%s): got %d downloads, want %d", id, v.Title, v.Downloads, want)
			}
		}
	}
	wantCounts(imported.Head, 4, 2)

	svc := audit.NewService(env.store)
	history := func() []audit.HistoryEvent {
		t.Helper()
		var out []audit.HistoryEvent
		for after := int64(-1); ; {
			page, err := svc.History(ctx, alice, after, 7) // small pages: the cursor is exercised
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Events...)
			if page.Next == nil {
				return out
			}
			after = int64(*page.Next)
		}
	}
	downloads := func(events []audit.HistoryEvent) (n int, streams []string) {
		for _, e := range events {
			if e.Type == download.VideoDownloadedType {
				n++
				streams = append(streams, e.Stream)
			}
		}
		return n, streams
	}
	before := history()
	if n, _ := downloads(before); n != 5 {
		t.Fatalf("alice's history lists %d downloads, want 5", n)
	}
	for i, e := range before {
		if e.Stream != account.StreamID(alice) || e.Version != uint64(i) {
			t.Fatalf("event %d: stream %s version %d, want the account stream at version %d", i, e.Stream, e.Version, i)
		}
	}
	st, err := svc.StateAsOf(ctx, alice, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Downloads != 5 || st.Events != len(before) || !st.Verified || !st.Newsletter || st.OpenSessions != 1 {
		t.Fatalf("alice's state: %+v", st)
	}
	// As of the end of October: two downloads then.
	if st, err := svc.StateAsOf(ctx, alice, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil || st.Downloads != 2 {
		t.Fatalf("alice's state at the end of October: %+v, %v", st, err)
	}

	// The old accounts still work with today's commands, on today's clock.
	accts := newAccountsOn(t, env.store, sessions.New(env.pool), phantoms.New(env.pool),
		func(c *commands.AccountsConfig) { c.Now, c.Keys = nil, env.keys }).accounts
	login, err := accts.Login(ctx, commands.Login{Email: "alice@example.com", Password: legacyPassword})
	if err != nil || login.AccountID != alice {
		t.Fatalf("login to alice: %+v, %v", login, err)
	}
	if _, err := accts.SetNewsletter(ctx, commands.SetNewsletter{AccountID: alice, Subscribed: false}); err != nil {
		t.Fatal(err)
	}
	c, err := commands.NewContent(commands.ContentConfig{Store: env.store, Keys: env.keys, DownloadBaseURL: "https://media.example.org/v"})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := c.Download(ctx, commands.DownloadVideo{AccountID: alice, VideoID: exercise, Format: "mp4-1080p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Download(ctx, commands.DownloadVideo{AccountID: accounts["carol@example.com"], VideoID: exercise, Format: "mp4-1080p"}); err == nil {
		t.Fatal("carol, never verified, downloaded")
	}
	wantCounts(dl.Position, 4, 3)

	after := history()
	n, streams := downloads(after)
	if n != 6 || len(after) != len(before)+3 {
		t.Fatalf("alice's history: %d events with %d downloads, want %d with 6", len(after), n, len(before)+3)
	}
	if got := streams[5]; !strings.HasPrefix(got, download.StreamPrefix+alice+"-") {
		t.Errorf("the new download is in %s, want alice's download stream", got)
	}
	if last := after[len(after)-1]; last.Type != download.VideoDownloadedType {
		t.Errorf("the last event is %s, want the new download", last.Type)
	}
	for i := 1; i < len(after); i++ {
		if !after[i-1].Position.Less(after[i].Position) {
			t.Fatalf("history out of global order at %d: %s then %s", i, after[i-1].Position, after[i].Position)
		}
	}
	st, err = svc.StateAsOf(ctx, alice, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Downloads != 6 || st.Events != len(after) || st.Newsletter {
		t.Fatalf("alice's state after the new commands: %+v", st)
	}
	rep, err := svc.VerifyAccount(ctx, alice)
	if err != nil || !rep.OK() || rep.Streams != 2 || rep.Events != int64(len(after)) {
		t.Fatalf("verify alice: %+v, %v", rep, err)
	}
	if rep, err := audit.VerifyAll(ctx, env.store, nil); err != nil || !rep.OK() {
		t.Fatalf("verify the log: %+v, %v", rep, err)
	}
}
