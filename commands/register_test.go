package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/memory"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// recordingMailer is a test double of mail.Queue (the outbox) that keeps
// the mails that would leave: those queued ready, and those confirmed; the
// real outbox is tested in mail/outbox, here in mail_outbox_test.go and
// over HTTP.
type recordingMailer struct {
	mu      sync.Mutex
	sent    []mail.Message
	pending map[string]mail.Message
	next    int
}

func (m *recordingMailer) Enqueue(_ context.Context, env mail.Envelope) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	id := fmt.Sprint(m.next)
	if env.After == nil {
		m.sent = append(m.sent, env.Message)
		return id, nil
	}
	if m.pending == nil {
		m.pending = map[string]mail.Message{}
	}
	m.pending[id] = env.Message
	return id, nil
}

func (m *recordingMailer) Confirm(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.pending[id]
	if !ok {
		return mail.ErrNotQueued
	}
	delete(m.pending, id)
	m.sent = append(m.sent, msg)
	return nil
}

func (m *recordingMailer) Discard(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[id]; !ok {
		return mail.ErrNotQueued
	}
	delete(m.pending, id)
	return nil
}

// Forget implements commands.MailEraser: it drops the mails to
// recipient that still wait for their event (those "sent" have left).
func (m *recordingMailer) Forget(_ context.Context, recipient, _ string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, msg := range m.pending {
		if recipient != "" && msg.To == recipient {
			delete(m.pending, id)
			n++
		}
	}
	return n, nil
}

func (m *recordingMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type accountsEnv struct {
	accounts *commands.Accounts
	store    eventstore.Store
	keys     commands.DataKeys
	codes    *account.CodeHasher
	mailer   *recordingMailer
	clock    *clock
	// instance makes another Accounts on the same stores and clock, as a
	// second `serve` process would be.
	instance func() *commands.Accounts
}

// newAccounts is the account commands on the in-memory event store, with
// sessions and phantoms in memory too: for tests of what the commands
// decide, which need no database.
func newAccounts(t *testing.T) *accountsEnv {
	t.Helper()
	return newAccountsOn(t, memory.New(memory.Options{}), newMemSessions(), newMemPhantoms())
}

// newAccountsOnPostgres is the account commands as `serve` wires them: the
// event store, sessions and phantoms in a fresh Postgres database, for the
// tests of known devices, revoked sessions and phantom rows.
func newAccountsOnPostgres(t *testing.T) *accountsEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := pgtest.Connect(t, pgtest.NewDatabase(t), true)
	store := postgres.New(ctx, pool, postgres.Options{})
	t.Cleanup(store.Close)
	keys, err := datakeys.New(pool, []byte("register-test-secret-of-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return newAccountsOn(t, store, sessions.New(pool), phantoms.New(pool), func(c *commands.AccountsConfig) { c.Keys = keys })
}

// phantomStore is what the account commands need of a phantom store:
// keeping phantoms, and deleting one on an erasure.
type phantomStore interface {
	commands.PhantomStore
	commands.PhantomEraser
}

// newAccountsOn is the account commands on store, ss and ps, with a test
// clock and mailer and the data keys in memory; tune, if given, changes
// the configuration (snapshots, the Postgres data keys, say) before the
// commands are made.
func newAccountsOn(t testing.TB, store eventstore.Store, ss commands.SessionStore, ps phantomStore, tune ...func(*commands.AccountsConfig)) *accountsEnv {
	t.Helper()
	hasher, err := password.New(password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := account.NewCodeHasher([]byte("register-test-secret-of-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	env := &accountsEnv{store: store, keys: newMemKeys(), codes: codes, mailer: &recordingMailer{}, clock: &clock{now: t0}}
	env.instance = func() *commands.Accounts {
		cfg := commands.AccountsConfig{Store: store, Passwords: hasher, Codes: codes,
			Outbox: env.mailer, Sessions: ss, Phantoms: ps, Now: env.clock.Now,
			Keys: env.keys, MailEraser: env.mailer, PhantomEraser: ps}
		for _, f := range tune {
			f(&cfg)
		}
		env.keys = cfg.Keys
		a, err := commands.NewAccounts(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	env.accounts = env.instance()
	return env
}

// claimOnly appends an address's claim without its account, as a
// registration does between its two appends (or leaves behind on a crash).
func (e *accountsEnv) claimOnly(t *testing.T, addr string) {
	t.Helper()
	email, err := account.NormaliseEmail(addr)
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := account.Encode(account.EmailClaimed{AccountID: uuid.NewString(), At: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(context.Background(), e.codes.ClaimStreamID(email), eventstore.NoStream,
		eventstore.EventData{ID: uuid.New(), Type: typ, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// loginWorks reports whether pw is the account's password: it logs in, or,
// before verification, is refused only for that (ErrNotVerified).
func (e *accountsEnv) loginWorks(t *testing.T, addr, pw string) bool {
	t.Helper()
	_, err := e.accounts.Login(context.Background(), commands.Login{Email: addr, Password: pw})
	if err != nil && !errors.Is(err, account.ErrInvalidCredentials) && !errors.Is(err, account.ErrNotVerified) {
		t.Fatalf("login: %v", err)
	}
	return err == nil || errors.Is(err, account.ErrNotVerified)
}

// TestRegisterLeavesAnInFlightClaimAlone: a registration that finds the
// address claimed a moment ago by another, whose account is not written
// yet, answers like any taken address and changes nothing: it cannot
// register the address with its own password.
func TestRegisterLeavesAnInFlightClaimAlone(t *testing.T) {
	e := newAccounts(t)
	const addr = "inflight@example.com"
	e.claimOnly(t, addr)
	e.clock.advance(account.DefaultPolicy().ClaimGrace - time.Second)
	res, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: "Racer-Password-42!"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.AccountID, ""; got != want {
		t.Errorf("account id = %q, want %q (nothing registered)", got, want)
	}
	if got, want := e.mailer.count(), 0; got != want {
		t.Errorf("mails sent = %d, want %d", got, want)
	}
	if e.loginWorks(t, addr, "Racer-Password-42!") {
		t.Error("the racing registration's password logs in")
	}
}

// TestRegisterCompletesAStaleClaim: a claim left without an account by a
// crash is taken over once ClaimGrace has passed, so the address is not
// lost.
func TestRegisterCompletesAStaleClaim(t *testing.T) {
	e := newAccounts(t)
	const addr = "crashed@example.com"
	e.claimOnly(t, addr)
	e.clock.advance(account.DefaultPolicy().ClaimGrace + time.Second)
	res, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: "Second-Try-Pass-42!"})
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountID == "" {
		t.Fatal("the stale claim was not completed")
	}
	if got, want := e.mailer.count(), 1; got != want {
		t.Errorf("mails sent = %d, want %d (the verification code)", got, want)
	}
	if !e.loginWorks(t, addr, "Second-Try-Pass-42!") {
		t.Error("the completing registration's password does not log in")
	}
}

// TestConcurrentRegistrationsOfOneAddress: of many registrations racing
// for one address, exactly one registers it; its password is the one that
// logs in, one code mail leaves, and every other caller gets the same
// empty success.
func TestConcurrentRegistrationsOfOneAddress(t *testing.T) {
	e := newAccounts(t)
	const addr = "contested@example.com"
	const n = 8
	results := make([]commands.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = e.accounts.Register(context.Background(),
				commands.Register{Email: addr, Password: fmt.Sprintf("Racer-Number-%d-Pass!", i)})
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("registration %d: %v", i, errs[i])
		}
		if results[i].AccountID != "" {
			if winner >= 0 {
				t.Fatalf("registrations %d and %d both registered the address", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no registration registered the address")
	}
	if !e.loginWorks(t, addr, fmt.Sprintf("Racer-Number-%d-Pass!", winner)) {
		t.Errorf("the winning password %d does not log in", winner)
	}
	// Fewer wrong passwords than start the login delay.
	for i, tried := 0, 0; i < n && tried < account.DefaultPolicy().LoginFailuresBeforeDelay-1; i++ {
		if i == winner {
			continue
		}
		tried++
		if e.loginWorks(t, addr, fmt.Sprintf("Racer-Number-%d-Pass!", i)) {
			t.Errorf("losing password %d logs in", i)
		}
	}
	e.mailer.mu.Lock()
	defer e.mailer.mu.Unlock()
	codes := 0
	for _, m := range e.mailer.sent {
		if !strings.Contains(strings.ToLower(m.Subject), "already") {
			codes++
		}
	}
	if got, want := codes, 1; got != want {
		t.Errorf("code mails = %d, want %d", got, want)
	}
}

// TestTakenAddressNoticeAtMostHourly: registering a taken address again and
// again mails its owner one notice an hour, not one per attempt.
func TestTakenAddressNoticeAtMostHourly(t *testing.T) {
	e := newAccounts(t)
	const addr = "mailbox@example.com"
	e.register(t, addr, "Owner-Password-42!")
	notices := func() int {
		e.mailer.mu.Lock()
		defer e.mailer.mu.Unlock()
		n := 0
		for _, m := range e.mailer.sent {
			if strings.Contains(m.Subject, "already have") {
				n++
			}
		}
		return n
	}
	again := func() {
		t.Helper()
		res, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: "Someone-Else-42!"})
		if err != nil || res.AccountID != "" {
			t.Fatalf("Register of a taken address = %+v, %v; want a zero result and no error", res, err)
		}
	}
	for range 5 {
		again()
	}
	if got, want := notices(), 1; got != want {
		t.Errorf("notices after 5 attempts in a minute = %d, want %d", got, want)
	}
	e.clock.advance(time.Hour)
	again()
	if got, want := notices(), 2; got != want {
		t.Errorf("notices after an hour more = %d, want %d", got, want)
	}
}
