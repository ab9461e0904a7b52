package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestEraseRacingDownloadsAndLogins: downloads and logins run against an
// erasure of the same account. Whatever order they land in, no personal
// data is readable afterwards: every client IP any event holds is sealed
// and opens as "[erased]", no stored byte holds the address or the IP in
// clear, and every write that starts after the erasure fails cleanly,
// including a download from an instance that saw the account verified
// before (its "verified never reverts" cache).
func TestEraseRacingDownloadsAndLogins(t *testing.T) {
	eraseRacingDownloadsAndLogins(t, newAccountsOnPostgres(t))
}

// TestEraseRacingDownloadsAndLoginsOnEventStoreDB is the same with the
// events in the EventStoreDB test double (the keys stay in Postgres).
func TestEraseRacingDownloadsAndLoginsOnEventStoreDB(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s, err := esdb.Open(srv.URL(), esdb.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pool := pgtest.NewPool(t)
	keys, err := datakeys.New(pool, []byte("erase-test-secret-of-32-bytes!!!"))
	if err != nil {
		t.Fatal(err)
	}
	eraseRacingDownloadsAndLogins(t, newAccountsOn(t, audit.NewChainedStore(s), sessions.New(pool), phantoms.New(pool),
		func(c *commands.AccountsConfig) { c.Keys = keys }))
}

func eraseRacingDownloadsAndLogins(t *testing.T, e *accountsEnv) {
	ctx := context.Background()
	content, err := commands.NewContent(commands.ContentConfig{Store: e.store, Keys: e.keys, DownloadBaseURL: "https://media.example.org/v"})
	if err != nil {
		t.Fatal(err)
	}
	videoID := publishVideo(t, content)
	const addr, pw, ip = "racer@example.com", "Racing-Pass-42!", "203.0.113.58"
	e.registerVerified(t, addr, pw)
	meta := commands.Meta{ClientIP: ip}
	login, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw, Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	accountID := login.AccountID
	// This instance now remembers the account as verified.
	if _, err := content.Download(ctx, commands.DownloadVideo{AccountID: accountID, VideoID: videoID, Format: "mp4-1080p", Meta: meta}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	unexpected := make(chan error, 100)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := content.Download(ctx, commands.DownloadVideo{AccountID: accountID, VideoID: videoID, Format: "mp4-720p", Meta: meta})
				if errors.Is(err, account.ErrAccountErased) {
					return
				}
				if errors.Is(err, commands.ErrConflict) {
					continue // a clean refusal: nothing was written
				}
				if err != nil {
					unexpected <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw, Meta: meta})
			if errors.Is(err, account.ErrInvalidCredentials) {
				return
			}
			if errors.Is(err, commands.ErrConflict) {
				continue // lost the stream to the downloads: a clean refusal, nothing written
			}
			if err != nil {
				unexpected <- err
				return
			}
		}
	})
	time.Sleep(50 * time.Millisecond)
	if _, err := e.accounts.Erase(ctx, commands.EraseAccount{AccountID: accountID, Password: pw, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Errorf("a racing command failed otherwise than cleanly: %v", err)
	}

	// Writes after the erasure fail cleanly.
	if _, err := content.Download(ctx, commands.DownloadVideo{AccountID: accountID, VideoID: videoID, Format: "mp4-720p", Meta: meta}); !errors.Is(err, account.ErrAccountErased) {
		t.Errorf("a download after the erasure (account remembered as verified): got %v, want ErrAccountErased", err)
	}
	if _, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw, Meta: meta}); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("a login after the erasure: got %v, want ErrInvalidCredentials", err)
	}
	if _, err := e.accounts.Authenticate(ctx, login.Token); !errors.Is(err, commands.ErrUnauthenticated) {
		t.Errorf("the session after the erasure: got %v, want ErrUnauthenticated", err)
	}

	// Nothing readable: every client IP sealed and erased, nothing in clear.
	c, err := e.keys.ForReading(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for after := eventstore.Start; ; {
		page, err := e.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range page {
			all.Write(re.Data)
			all.Write(re.Metadata)
			all.WriteString(re.StreamID)
			after = re.Position
			if re.StreamID != account.StreamID(accountID) && !strings.HasPrefix(re.StreamID, download.StreamPrefix+accountID) {
				continue
			}
			var md eventstore.Metadata
			if err := json.Unmarshal(re.Metadata, &md); err != nil {
				t.Fatal(err)
			}
			if md.ClientIP == "" {
				continue
			}
			if got, err := c.Open(md.ClientIP); err != nil || got != account.Erased {
				t.Errorf("%s version %d: client_ip opens as %q (%v), want %q", re.Type, re.Version, got, err, account.Erased)
			}
		}
		if len(page) < 1000 {
			break
		}
	}
	for _, s := range []string{addr, ip} {
		if bytes.Contains(all.Bytes(), []byte(s)) {
			t.Errorf("the event store holds %q in clear", s)
		}
	}
}

// TestEraseWithAWrongPasswordChangesNothing: the refusal records a failed
// login and leaves the key, the claim and the sessions as they were.
func TestEraseWithAWrongPasswordChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newAccounts(t)
	const addr, pw = "keeper-of-data@example.com", "Keeper-Pass-42!"
	e.registerVerified(t, addr, pw)
	login, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.store.ReadStream(ctx, account.StreamID(login.AccountID), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.Erase(ctx, commands.EraseAccount{AccountID: login.AccountID, Password: pw + "?"}); !errors.Is(err, commands.ErrWrongPassword) {
		t.Fatalf("got %v, want ErrWrongPassword", err)
	}
	after, err := e.store.ReadStream(ctx, account.StreamID(login.AccountID), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(after), len(before)+1; got != want {
		t.Fatalf("events after a refused erasure: got %d, want %d", got, want)
	}
	if got, want := after[len(after)-1].Type, account.LoginFailedType; got != want {
		t.Fatalf("the event a refused erasure appends: got %s, want %s", got, want)
	}
	if _, err := e.accounts.Authenticate(ctx, login.Token); err != nil {
		t.Fatalf("the session after a refused erasure: %v", err)
	}
	if _, err := e.keys.ForWriting(ctx, login.AccountID); err != nil {
		t.Fatalf("the key after a refused erasure: %v", err)
	}
	if !e.loginWorks(t, addr, pw) {
		t.Fatal("the password no longer works after a refused erasure")
	}
}

// TestWrongErasePasswordsCountAsFailedLogins: someone holding a stolen
// session cannot guess the password through DELETE /api/me faster than
// through the login: each wrong confirmation is a failed login, and after
// as many as the login allows the erasure is delayed like a login (the
// password not even checked, the right one included) and so is the
// login itself. Nothing is erased meanwhile.
func TestWrongErasePasswordsCountAsFailedLogins(t *testing.T) {
	ctx := context.Background()
	e := newAccounts(t)
	const addr, pw = "stolen-session@example.com", "Stolen-Pass-42!"
	e.registerVerified(t, addr, pw)
	login, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	erase := func(password string) error {
		_, err := e.accounts.Erase(ctx, commands.EraseAccount{AccountID: login.AccountID, Password: password,
			Meta: commands.Meta{ClientIP: "203.0.113.9"}})
		return err
	}
	for i := range account.DefaultPolicy().LoginFailuresBeforeDelay {
		if err := erase("Wrong-Guess-42!"); !errors.Is(err, commands.ErrWrongPassword) {
			t.Fatalf("wrong password %d: got %v, want ErrWrongPassword", i+1, err)
		}
	}
	err = erase(pw)
	var wait *account.RetryAfterError
	if !errors.As(err, &wait) || wait.Wait <= 0 {
		t.Fatalf("the right password after %d wrong ones: got %v, want a *RetryAfterError (ErrLoginDelayed)",
			account.DefaultPolicy().LoginFailuresBeforeDelay, err)
	}
	if _, err := e.accounts.Login(ctx, commands.Login{Email: addr, Password: pw}); !errors.Is(err, account.ErrLoginDelayed) {
		t.Fatalf("a login after the wrong confirmations: got %v, want ErrLoginDelayed", err)
	}
	if _, err := e.accounts.Authenticate(ctx, login.Token); err != nil {
		t.Fatalf("the session after delayed erasures: %v", err)
	}
	if _, err := e.keys.ForWriting(ctx, login.AccountID); err != nil {
		t.Fatalf("the key after delayed erasures: %v", err)
	}
	// Once the delay has passed, the owner's right password erases.
	e.clock.advance(account.DefaultPolicy().LoginBaseDelay + time.Second)
	if err := erase(pw); err != nil {
		t.Fatalf("the right password after the delay: %v", err)
	}
}
