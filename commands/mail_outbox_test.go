package commands_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/mail/outbox"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// errCrash stands for the process dying at a fault hook.
var errCrash = errors.New("test: the process died here")

// outboxEnv runs the account commands on the real outbox (Postgres,
// Mailpit) with a real clock.
type outboxEnv struct {
	pool     *pgxpool.Pool
	store    *postgres.Store
	pit      *mailpit.Client
	accounts *commands.Accounts
	other    *commands.Accounts // another instance, without fault hooks
	outbox   *outbox.Outbox
}

func newOutboxEnv(t *testing.T, tune func(*outbox.Config)) *outboxEnv {
	t.Helper()
	pit := mailpit.Require(t)
	pool := pgtest.Connect(t, pgtest.NewDatabase(t), true)
	store := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(store.Close)
	secret := []byte("outbox-commands-secret-of-32-byt")
	codes, err := account.NewCodeHasher(secret)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.New(password.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	m, err := smtp.New(smtp.Config{Addr: mailpit.SMTPAddrFromEnv(), From: "Portal <portal@commands.test>"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := outbox.Config{Pool: pool, Events: store, Mailer: m, Secret: secret, MessageIDDomain: "commands.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 100 * time.Millisecond,
		ConfirmGrace: 200 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	ob, err := outbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	policy := account.DefaultPolicy()
	policy.ResendMinInterval = time.Millisecond // codes back to back
	keys, err := datakeys.New(pool, secret)
	if err != nil {
		t.Fatal(err)
	}
	newAccounts := func() *commands.Accounts {
		a, err := commands.NewAccounts(commands.AccountsConfig{Store: store, Passwords: hasher, Codes: codes,
			Outbox: ob, Sessions: sessions.New(pool), Phantoms: phantoms.New(pool), Policy: policy,
			Keys: keys, MailEraser: ob, PhantomEraser: phantoms.New(pool)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return &outboxEnv{pool: pool, store: store, pit: pit, accounts: newAccounts(), other: newAccounts(), outbox: ob}
}

func (e *outboxEnv) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.outbox.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *outboxEnv) queued(t *testing.T) (all, unconfirmed int) {
	t.Helper()
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE NOT confirmed) FROM mail_outbox`).
		Scan(&all, &unconfirmed); err != nil {
		t.Fatal(err)
	}
	return all, unconfirmed
}

func (e *outboxEnv) waitEmpty(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n, _ := e.queued(t)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mail(s) still queued after %s", n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mails returns the codes mailed to addr, newest first.
func (e *outboxEnv) mails(t *testing.T, addr string) []string {
	t.Helper()
	ctx := context.Background()
	hits, err := e.pit.SearchAll(ctx, "to:"+addr)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, h := range hits {
		m, err := e.pit.Get(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, sixDigits.FindString(m.Text))
	}
	return codes
}

// TestCrashAfterQueueBeforeAppend: the process dies after the code's mail
// is queued and before the account is appended. Nothing was stored, so no
// mail leaves: the relay finds no event and drops the row.
func TestCrashAfterQueueBeforeAppend(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t, func(c *outbox.Config) { c.ConfirmWithin = 2 * time.Second })
	commands.SetMailFaults(e.accounts, func() error { return errCrash }, nil)
	addr := mailpit.UniqueAddress("crash-queue", "commands.test")
	if _, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: "Crash-Before-Append-42!"}); !errors.Is(err, errCrash) {
		t.Fatalf("Register = %v, want the crash", err)
	}
	if n, u := e.queued(t); n != 1 || u != 1 {
		t.Fatalf("queued %d (%d unconfirmed), want 1 unconfirmed", n, u)
	}
	e.run(t)
	e.waitEmpty(t, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if codes := e.mails(t, addr); len(codes) != 0 {
		t.Errorf("%d mail(s) left for a registration that was never stored", len(codes))
	}
}

// TestCrashAfterAppendBeforeConfirm: the process dies after the account
// (and its code) is appended and before the mail is confirmed. The relay
// finds the event and sends the mail; its code verifies.
func TestCrashAfterAppendBeforeConfirm(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t, nil)
	commands.SetMailFaults(e.accounts, nil, func() error { return errCrash })
	addr := mailpit.UniqueAddress("crash-append", "commands.test")
	const pw = "Crash-After-Append-42!"
	if _, err := e.accounts.Register(context.Background(), commands.Register{Email: addr, Password: pw}); !errors.Is(err, errCrash) {
		t.Fatalf("Register = %v, want the crash", err)
	}
	if n, u := e.queued(t); n != 1 || u != 1 {
		t.Fatalf("queued %d (%d unconfirmed), want 1 unconfirmed", n, u)
	}
	e.run(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.pit.WaitForMessage(ctx, addr, "verification"); err != nil {
		t.Fatal(err)
	}
	codes := e.mails(t, addr)
	if len(codes) != 1 {
		t.Fatalf("%d mails, want 1", len(codes))
	}
	if _, err := e.other.VerifyEmail(context.Background(), commands.VerifyEmail{Email: addr, Code: codes[0], Password: pw}); err != nil {
		t.Errorf("the mailed code does not verify: %v", err)
	}
	e.waitEmpty(t, 10*time.Second)
}

// TestRefusedAppendDiscardsItsMail: a concurrent change refuses the first
// append; its queued mail is discarded at once (not left for the relay,
// which here would wait an hour), the command decides again and the new
// code's mail leaves.
func TestRefusedAppendDiscardsItsMail(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t, func(c *outbox.Config) { c.ConfirmGrace, c.ConfirmWithin = time.Hour, 2*time.Hour })
	e.run(t)
	ctx := context.Background()
	addr := mailpit.UniqueAddress("conflict", "commands.test")
	const pw = "Conflict-Password-42!"
	if _, err := e.accounts.Register(ctx, commands.Register{Email: addr, Password: pw}); err != nil {
		t.Fatal(err)
	}
	first := true
	commands.SetMailFaults(e.accounts, func() error {
		if first { // another instance changes the account in between
			first = false
			if _, _, err := e.other.RequestVerificationCode(ctx, commands.RequestVerificationCode{Email: addr}); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if out, _, err := e.accounts.RequestVerificationCode(ctx, commands.RequestVerificationCode{Email: addr}); err != nil || out != commands.CodeSent {
		t.Fatalf("RequestVerificationCode = %v, %v", out, err)
	}
	e.waitEmpty(t, 20*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	codes := e.mails(t, addr)
	for len(codes) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		codes = e.mails(t, addr)
	}
	if len(codes) != 3 {
		t.Fatalf("%d mails, want 3 (registration, the other instance's request, the retried request)", len(codes))
	}
	if _, err := e.other.VerifyEmail(ctx, commands.VerifyEmail{Email: addr, Code: codes[0], Password: pw}); err != nil {
		t.Errorf("the newest mailed code does not verify: %v", err)
	}
}
