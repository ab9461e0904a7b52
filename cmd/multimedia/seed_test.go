package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestSeedDemo seeds a small history through the CLI, recounts it from the
// log, and checks that a second run, and --if-empty, write nothing.
func TestSeedDemo(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": url}
	args := []string{"seed", "--demo", "--accounts", "300", "--downloads=6000", "--days=28"}
	code, out, errOut := runCLI(t, env, args...)
	if code != 0 || !strings.Contains(out, "seed: done in") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.Connect(t, url, false)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	types := map[string]int{}
	verified := map[string]time.Time{}
	videos := map[string]time.Time{}
	perWeekday := map[time.Weekday]int{}
	var first, last time.Time
	for after := eventstore.Start; ; {
		page, err := store.ReadAll(ctx, after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range page {
			types[re.Type]++
			switch re.Type {
			case account.AccountRegisteredType:
				var e account.AccountRegistered
				_ = json.Unmarshal(re.Data, &e)
				if e.PasswordHash != seedPasswordHash {
					t.Fatalf("seeded account has hash %q", e.PasswordHash)
				}
			case account.AccountVerifiedType:
				var e account.AccountVerified
				_ = json.Unmarshal(re.Data, &e)
				verified[e.AccountID] = e.At
			case video.VideoPublishedType:
				var e video.VideoPublished
				_ = json.Unmarshal(re.Data, &e)
				videos[e.VideoID] = e.PublishedAt
				if len(e.Formats) != 3 {
					t.Fatalf("video formats: %+v", e.Formats)
				}
			case account.VideoDownloadedType:
				var e account.VideoDownloaded
				_ = json.Unmarshal(re.Data, &e)
				v, okV := videos[e.VideoID]
				at, okA := verified[e.AccountID]
				if !okV || !okA || e.At.Before(v) || e.At.Before(at) {
					t.Fatalf("download %+v before its video (%v) or its account's verification (%v)", e, v, at)
				}
				if first.IsZero() || e.At.Before(first) {
					first = e.At
				}
				last = laterOf(last, e.At)
				perWeekday[e.At.Weekday()]++
			}
		}
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].Position
	}
	if types[article.ArticlePublishedType] != 1 || types[article.SlugClaimedType] != 1 || types[video.VideoPublishedType] != 12 ||
		types[account.AccountRegisteredType] != 300 || types[account.AccountVerifiedType] != 300 || types[account.EmailClaimedType] != 300 {
		t.Fatalf("event counts: %v", types)
	}
	if n := types[account.VideoDownloadedType]; n < 5900 || n > 6100 {
		t.Fatalf("%d downloads, want about 6000", n)
	}
	if !strings.Contains(out, "downloads; ") {
		t.Fatalf("no summary line: %s", out)
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	if first.Before(end.AddDate(0, 0, -28)) || !last.Before(end) {
		t.Fatalf("downloads span %v..%v, want the 28 days before %v", first, last, end)
	}
	weekday := float64(perWeekday[time.Tuesday]+perWeekday[time.Wednesday]+perWeekday[time.Thursday]) / 3
	weekend := float64(perWeekday[time.Saturday]+perWeekday[time.Sunday]) / 2
	if weekend*1.5 > weekday {
		t.Fatalf("no weekly pattern: weekday mean %.0f, weekend mean %.0f", weekday, weekend)
	}

	// The marker hash parses, and matches neither an empty nor a guessed password.
	for _, pw := range []string{"", "seed-demo-no-login"} {
		if ok, _, err := (password.Hasher{}).Verify(pw, seedPasswordHash); ok || err != nil {
			t.Fatalf("seeded password hash must parse and match nothing: %v %v", ok, err)
		}
	}

	// Again: nothing is written.
	code, out, errOut = runCLI(t, env, args...)
	if code != 0 || !strings.Contains(out, "already there") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "seed", "--demo", "--if-empty")
	if code != 0 || !strings.Contains(out, "not empty") {
		t.Fatalf("--if-empty on a seeded store: exit %d %s", code, out)
	}
	if again, _ := store.Head(ctx); again != head {
		t.Fatalf("a second run moved the head from %v to %v", head, again)
	}

	// The seed's article is the seed page's.
	recs, _ := store.ReadStream(ctx, article.SlugStreamID("nato-allies-discuss-missile-defence"), 0, 1)
	if len(recs) != 1 {
		t.Fatal("the demo article's slug is not claimed")
	}
}

func TestSeedUsage(t *testing.T) {
	for _, args := range [][]string{{"seed"}, {"seed", "--demo", "--days=0"}, {"seed", "--demo", "extra"}} {
		code, _, errOut := runCLI(t, map[string]string{}, args...)
		if code != 2 || !strings.Contains(errOut, "seed") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
