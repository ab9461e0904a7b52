package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/mail/outbox"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testEnv struct {
	logs      *lockedBuffer
	server    *Server
	mailpit   *mailpit.Client
	store     eventstore.Store
	pool      *pgxpool.Pool
	passwords *countingHasher
	codes     *account.CodeHasher
	keys      *datakeys.Store
}

// countingHasher is the real argon2id hasher, counting the passwords it
// hashes or checks, so that tests can show a request was refused before
// any hashing.
type countingHasher struct {
	password.Hasher
	calls atomic.Int64
}

func (h *countingHasher) Hash(pw string) (string, error) {
	h.calls.Add(1)
	return h.Hasher.Hash(pw)
}

func (h *countingHasher) Verify(pw, encoded string) (bool, bool, error) {
	h.calls.Add(1)
	return h.Hasher.Verify(pw, encoded)
}

func (h *countingHasher) DummyVerify(pw string) {
	h.calls.Add(1)
	h.Hasher.DummyVerify(pw)
}

func newTestServer(t *testing.T, opts ...func(*Config)) *Server {
	return newTestEnv(t, opts...).server
}

// newTestEnv wires the real thing: Postgres event store and sessions,
// argon2id, SMTP to Mailpit through the outbox.
func newTestEnv(t *testing.T, opts ...func(*Config)) *testEnv {
	t.Helper()
	return newTestEnvOn(t, nil, opts...)
}

// newTestEnvOn is newTestEnv with the event store openStore returns on the
// test's pool; nil means the Postgres one.
func newTestEnvOn(t *testing.T, openStore func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store, opts ...func(*Config)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, openStore, account.Policy{}, opts...)
}

// newTestEnvWith is newTestEnvOn with the account rules' policy (zero: the
// default one).
func newTestEnvWith(t testing.TB, openStore func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store, policy account.Policy, opts ...func(*Config)) *testEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := pgtest.NewPool(t)
	var store eventstore.Store
	if openStore != nil {
		store = openStore(ctx, pool)
	} else {
		pg := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(pg.Close)
		store = pg
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pit := mailpit.Require(t)
	smtpMailer, err := smtp.New(smtp.Config{Addr: mailpit.SMTPAddrFromEnv(), From: "Test <test@multimedia.localhost>"})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := account.NewCodeHasher(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	mailOutbox, err := outbox.New(outbox.Config{Pool: pool, Events: store, Mailer: smtpMailer,
		Secret: bytes.Repeat([]byte("k"), 32), MessageIDDomain: "multimedia.localhost", Logger: logger,
		PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = mailOutbox.Run(ctx) }()
	hasher := &countingHasher{}
	keys, err := datakeys.New(pool, bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := commands.NewAccounts(commands.AccountsConfig{
		Store: store, Passwords: hasher, Codes: codes, Outbox: mailOutbox, Sessions: sessions.New(pool),
		Phantoms: phantoms.New(pool), Policy: policy,
		Keys: keys, MailEraser: mailOutbox, PhantomEraser: phantoms.New(pool),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The reply floors are off in tests; BenchmarkAccountTiming measures them.
	cfg := Config{Accounts: accounts, RateLimit: RateLimit{Off: true}, ReplyFloors: ReplyFloors{Off: true}, Logger: logger}
	// Tests that fire parallel hashing requests on a loaded machine (the
	// race detector makes argon2id several times slower) would see 503
	// busy after the production wait of 2 s: tests queue up to a minute.
	// The gate's own tests set theirs.
	cfg.PasswordGate = password.NewGate(0, time.Minute)
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Audit != nil {
		cfg.Audit = cfg.Audit.WithPrivacy(codes, keys) // as serve wires it
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{server: s, mailpit: pit, store: store, pool: pool, logs: logs, passwords: hasher, codes: codes, keys: keys}
}

func doRequest(t *testing.T, h http.Handler, method, path, token string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return doRequestFrom(t, h, "192.0.2.10", method, path, token, body, headers...)
}

// doRequestFrom is doRequest from the client address ip.
func doRequestFrom(t *testing.T, h http.Handler, ip, method, path, token string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
		rd = strings.NewReader(b)
	case []byte:
		raw = b
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = js
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = net.JoinHostPort(ip, "4321")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkExchange(t, req, raw, rec)
	return rec
}

// errorOf decodes the API's error body ({"error": {code, message, details}}).
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) errorPayload {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" {
		t.Fatalf("status %d: body %q is not an error body", rec.Code, rec.Body.String())
	}
	return body.Error
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// codeFromMail waits for the newest mail to addr whose subject contains
// subject and returns the code in it.
func (e *testEnv) codeFromMail(t *testing.T, addr, subject string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := e.mailpit.WaitForMessage(ctx, addr, subject)
	if err != nil {
		t.Fatalf("no mail %q to %s: %v", subject, addr, err)
	}
	m := sixDigits.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("mail %q to %s has no code: %q", subject, addr, msg.Text)
	}
	_ = e.mailpit.Delete(ctx, msg.ID)
	return m[1]
}

const strongPassword = "Correct-Horse-42-Battery"

func uniqueEmail(prefix string) string { return mailpit.UniqueAddress(prefix, "example.com") }

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status: got %d, want %d; body %s", rec.Code, want, rec.Body.String())
	}
}
