package outbox

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

var testSecret = []byte("outbox-test-secret-of-32-bytes!!")

type testEnv struct {
	url   string
	pool  *pgxpool.Pool
	store *postgres.Store
	pit   *mailpit.Client
	smtp  string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	pit := mailpit.Require(t)
	url := pgtest.NewDatabase(t)
	pool := pgtest.Connect(t, url, true)
	store := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(store.Close)
	return &testEnv{url: url, pool: pool, store: store, pit: pit, smtp: mailpit.SMTPAddrFromEnv()}
}

// newOutbox makes an Outbox on its own pool (as another process would
// have), delivering to smtpAddr.
func (e *testEnv) newOutbox(t *testing.T, smtpAddr string, tune func(*Config)) (*Outbox, *prometheus.Registry) {
	t.Helper()
	m, err := smtp.New(smtp.Config{Addr: smtpAddr, From: "Portal <portal@outbox.test>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := Config{
		Pool: pgtest.Connect(t, e.url, false), Events: e.store, Mailer: m, Secret: testSecret,
		MessageIDDomain: "outbox.test", Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 100 * time.Millisecond, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		ConfirmGrace: 100 * time.Millisecond, SweepInterval: 100 * time.Millisecond,
	}
	if tune != nil {
		tune(&cfg)
	}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o, reg
}

// run runs o until the test ends (or stop is called).
func run(t *testing.T, o *Outbox) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func codeEnvelope(to, code string) mail.Envelope {
	return mail.Envelope{
		Message:   mail.Message{To: to, Subject: "Your verification code", Text: "Enter this code:\n\n    " + code + "\n"},
		Kind:      mail.KindVerificationCode,
		ExpiresAt: time.Now().Add(30 * time.Minute),
	}
}

func (e *testEnv) queued(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *testEnv) waitEmpty(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for e.queued(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d mail(s) still queued after %s", e.queued(t), within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQueuedRowHoldsNoPlaintext reads the raw row: neither the code nor the
// address nor the subject is in it, in any column; the relay then delivers
// the mail with the Message-ID assigned at enqueue and deletes the row.
func TestQueuedRowHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	o, reg := e.newOutbox(t, e.smtp, nil)
	ctx := context.Background()
	to := mailpit.UniqueAddress("sealed", "outbox.test")
	const code = "739514"
	id, err := o.Enqueue(ctx, codeEnvelope(to, code))
	if err != nil {
		t.Fatal(err)
	}
	var raw, sealedHex, messageID string
	if err := e.pool.QueryRow(ctx, `SELECT row_to_json(m)::text, encode(sealed, 'hex'), message_id FROM mail_outbox m WHERE id = $1`, id).
		Scan(&raw, &sealedHex, &messageID); err != nil {
		t.Fatal(err)
	}
	sealedBytes, _ := hex.DecodeString(sealedHex)
	for _, secret := range []string{code, to, strings.Split(to, "@")[0], "verification code", "Enter this code"} {
		if strings.Contains(raw, secret) || strings.Contains(string(sealedBytes), secret) {
			t.Errorf("the queued row holds %q in the clear:\n%s", secret, raw)
		}
	}
	if messageID != id+"@outbox.test" {
		t.Errorf("message_id = %q, want %s@outbox.test", messageID, id)
	}

	run(t, o)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, err := e.pit.WaitForMessage(wctx, to, "verification")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Text, code) || got.MessageID != messageID {
		t.Errorf("delivered Message-ID %q text %q, want %q with the code", got.MessageID, got.Text, messageID)
	}
	e.waitEmpty(t, 10*time.Second)
	if n := testutil.ToFloat64(o.metrics.deliveries.WithLabelValues(string(mail.KindVerificationCode))); n != 1 {
		t.Errorf("deliveries = %v, want 1", n)
	}
	if _, err := reg.Gather(); err != nil {
		t.Errorf("metrics: %v", err)
	}
}

// TestTwoRelaysDeliverEachMailOnce: two relays (two pools, as two
// processes) on one database with 200 queued mails: Mailpit receives each
// exactly once, and both relays took part.
func TestTwoRelaysDeliverEachMailOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const n = 200
	domain := "two-" + uuid.NewString()[:8] + ".outbox.test"
	a, _ := e.newOutbox(t, e.smtp, nil)
	b, _ := e.newOutbox(t, e.smtp, nil)
	ctx := context.Background()
	want := map[string]bool{}
	for i := range n {
		to := fmt.Sprintf("m%03d@%s", i, domain)
		id, err := a.Enqueue(ctx, codeEnvelope(to, fmt.Sprintf("%06d", i)))
		if err != nil {
			t.Fatal(err)
		}
		want[id+"@outbox.test"] = true
	}
	start := time.Now()
	run(t, a)
	run(t, b)
	e.waitEmpty(t, 120*time.Second)
	t.Logf("two relays delivered %d mails in %s", n, time.Since(start).Round(time.Millisecond))

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var hits []mailpit.Summary
	for {
		var err error
		if hits, err = e.pit.SearchAll(wctx, "to:"+domain); err != nil {
			t.Fatal(err)
		}
		if len(hits) >= n || wctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive right behind
	hits, err := e.pit.SearchAll(ctx, "to:"+domain)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, h := range hits {
		seen[h.MessageID]++
	}
	for id, c := range seen {
		if c != 1 || !want[id] {
			t.Errorf("Message-ID %s arrived %d time(s) (queued: %v)", id, c, want[id])
		}
	}
	if len(hits) != n || len(seen) != n {
		t.Errorf("Mailpit holds %d messages with %d distinct Message-IDs, want %d each", len(hits), len(seen), n)
	}
	da := testutil.ToFloat64(a.metrics.deliveries.WithLabelValues(string(mail.KindVerificationCode)))
	db := testutil.ToFloat64(b.metrics.deliveries.WithLabelValues(string(mail.KindVerificationCode)))
	t.Logf("relay A delivered %v, relay B %v", da, db)
	if da+db != n || da == 0 || db == 0 {
		t.Errorf("deliveries A=%v B=%v, want both > 0 and %d in all", da, db, n)
	}
}

// TestDeliveryCutOffByDeathIsResentWithSameMessageID: the relay's process
// dies after the SMTP server accepted a mail and before its row was
// deleted (its database connection ends, as a killed process's does).
// Another relay sends the mail again, with the same Message-ID.
func TestDeliveryCutOffByDeathIsResentWithSameMessageID(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	a, _ := e.newOutbox(t, e.smtp, func(c *Config) { c.Workers = 1 })
	sent := make(chan string, 1)
	release := make(chan struct{})
	a.afterSend = func(id string) {
		sent <- id
		<-release
	}
	to := mailpit.UniqueAddress("cutoff", "outbox.test")
	id, err := a.Enqueue(ctx, codeEnvelope(to, "246813"))
	if err != nil {
		t.Fatal(err)
	}
	stopA := run(t, a)
	select {
	case got := <-sent:
		if got != id {
			t.Fatalf("sent %s, want %s", got, id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the mail was not sent")
	}
	// The process dies: its connection, and the row lock with it, go. The
	// timeout makes pg_terminate_backend wait until the backend has ended
	// (else, on a busy machine, the relay's DELETE could still get in).
	var killed int
	if err := e.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_locks
WHERE locktype = 'advisory' AND classid = $1 AND objsubid = 2 AND pid <> pg_backend_pid()
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, uint32(lockClass)).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection held the row")
	}
	close(release)
	stopA()
	// The row outlived the cut-off delivery: either it is still queued, or
	// relay A (alive here, unlike a killed process) already took it again
	// on a new connection and re-sent it. Either way the mailbox must end
	// with two copies of one Message-ID.
	if q := e.queued(t); q > 1 {
		t.Fatalf("queued = %d after the crash, want at most the one mail", q)
	}
	b, _ := e.newOutbox(t, e.smtp, nil)
	run(t, b)
	e.waitEmpty(t, 20*time.Second)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var hits []mailpit.Summary
	for len(hits) < 2 && wctx.Err() == nil {
		hits, err = e.pit.SearchAll(wctx, "to:"+to)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(hits) != 2 {
		t.Fatalf("Mailpit holds %d copies, want 2 (the cut-off delivery and the re-send)", len(hits))
	}
	for _, h := range hits {
		if h.MessageID != id+"@outbox.test" {
			t.Errorf("Message-ID = %q, want %s@outbox.test on both copies", h.MessageID, id)
		}
	}
}

// appendEvent appends one event to stream at the expected version and
// returns it as the EventRef a mail waits for.
func appendEvent(t *testing.T, s eventstore.Store, stream string, version uint64) mail.EventRef {
	t.Helper()
	id := uuid.New()
	exp := eventstore.NoStream
	if version > 0 {
		exp = eventstore.Exact(version - 1)
	}
	if _, err := s.Append(context.Background(), stream, exp, eventstore.EventData{ID: id, Type: "Test.v1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	return mail.EventRef{Stream: stream, EventID: id.String(), Version: version}
}

// TestUnconfirmedMailIsResolvedFromTheEventStore covers the crash windows
// of a mail queued before its event: appended but never confirmed (sent),
// never appended while another event took its version (dropped at once),
// never appended and nothing else there (dropped after ConfirmWithin), and
// still waiting within ConfirmWithin (kept).
func TestUnconfirmedMailIsResolvedFromTheEventStore(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	o, _ := e.newOutbox(t, e.smtp, func(c *Config) { c.ConfirmWithin = 3 * time.Second })
	keep, _ := e.newOutbox(t, e.smtp, nil) // queues only

	stream := "account-" + uuid.NewString()
	appendEvent(t, e.store, stream, 0)
	// 1. Appended, then the process died before Confirm.
	stored := appendEvent(t, e.store, stream, 1)
	env := codeEnvelope(mailpit.UniqueAddress("stored", "outbox.test"), "111111")
	env.After = &stored
	// The row is queued before the append in real life; the order does not
	// matter to the relay, which only looks after ConfirmGrace.
	storedID, err := keep.Enqueue(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// 2. Queued for version 2, the process died before appending, and
	// another writer's event took version 2.
	lost := mail.EventRef{Stream: stream, EventID: uuid.NewString(), Version: 2}
	env2 := codeEnvelope(mailpit.UniqueAddress("lost", "outbox.test"), "222222")
	env2.After = &lost
	lostID, err := keep.Enqueue(ctx, env2)
	if err != nil {
		t.Fatal(err)
	}
	appendEvent(t, e.store, stream, 2)
	// 3. Queued for a fresh stream that nobody ever writes.
	never := mail.EventRef{Stream: "account-" + uuid.NewString(), EventID: uuid.NewString(), Version: 0}
	env3 := codeEnvelope(mailpit.UniqueAddress("never", "outbox.test"), "333333")
	env3.After = &never
	neverID, err := keep.Enqueue(ctx, env3)
	if err != nil {
		t.Fatal(err)
	}

	run(t, o)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := e.pit.WaitForMessage(wctx, env.Message.To, ""); err != nil {
		t.Fatalf("the mail of the stored event: %v", err)
	}
	has := func(id string) bool {
		var ok bool
		if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_outbox WHERE id = $1)`, id).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	deadline := time.Now().Add(2 * time.Second)
	for has(lostID) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if has(lostID) {
		t.Error("the mail whose version another event took is still queued")
	}
	if !has(neverID) {
		t.Error("the mail whose event may still come was dropped before ConfirmWithin")
	}
	e.waitEmpty(t, 20*time.Second) // ConfirmWithin (3 s) passes
	if has(storedID) {
		t.Error("the stored event's mail is still queued")
	}
	if n := testutil.ToFloat64(o.metrics.dropped.WithLabelValues(string(mail.KindVerificationCode), reasonEventNotStore)); n != 2 {
		t.Errorf("dropped = %v, want 2", n)
	}
	for _, to := range []string{env2.Message.To, env3.Message.To} {
		if hits, err := e.pit.SearchAll(ctx, "to:"+to); err != nil || len(hits) != 0 {
			t.Errorf("a mail for a change never stored reached %s (%d, %v)", to, len(hits), err)
		}
	}
}

// TestConfirmAndDiscard: Confirm makes a mail ready and the relay sends it
// at once, Discard forgets it, and both say when there is no such mail.
func TestConfirmAndDiscard(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	o, _ := e.newOutbox(t, e.smtp, func(c *Config) { c.ConfirmGrace, c.ConfirmWithin = time.Hour, 2*time.Hour })
	stream := "account-" + uuid.NewString()
	ref := mail.EventRef{Stream: stream, EventID: uuid.NewString(), Version: 0}
	a := codeEnvelope(mailpit.UniqueAddress("confirm", "outbox.test"), "444444")
	a.After = &ref
	b := codeEnvelope(mailpit.UniqueAddress("discard", "outbox.test"), "555555")
	b.After = &ref
	aID, err := o.Enqueue(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	bID, err := o.Enqueue(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	run(t, o)
	if err := o.Discard(ctx, bID); err != nil {
		t.Fatal(err)
	}
	if err := o.Confirm(ctx, aID); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := e.pit.WaitForMessage(wctx, a.Message.To, ""); err != nil {
		t.Fatal(err)
	}
	e.waitEmpty(t, 10*time.Second)
	for _, f := range []func(context.Context, string) error{o.Confirm, o.Discard} {
		if err := f(ctx, bID); !errorsIs(err, mail.ErrNotQueued) {
			t.Errorf("on a gone mail: %v, want ErrNotQueued", err)
		}
	}
}

// TestUndeliverableMailIsGivenUpAtItsExpiry: with no SMTP server at all,
// attempts fail and are counted, and at its expiry the mail is deleted and
// counted as given up.
func TestUndeliverableMailIsGivenUpAtItsExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	o, _ := e.newOutbox(t, closedPort(t), func(c *Config) { c.SendTimeout = 2 * time.Second })
	env := codeEnvelope(mailpit.UniqueAddress("expire", "outbox.test"), "666666")
	env.ExpiresAt = time.Now().Add(2 * time.Second)
	if _, err := o.Enqueue(ctx, env); err != nil {
		t.Fatal(err)
	}
	run(t, o)
	e.waitEmpty(t, 40*time.Second) // expiry, then the step bound (SendTimeout + 5 s)
	k := string(mail.KindVerificationCode)
	if n := testutil.ToFloat64(o.metrics.givenUp.WithLabelValues(k, reasonExpired)); n != 1 {
		t.Errorf("given up = %v, want 1", n)
	}
	if n := testutil.ToFloat64(o.metrics.failures.WithLabelValues(k)); n < 2 {
		t.Errorf("failed attempts = %v, want several", n)
	}
}

// TestEnqueueRefusesAnUnsendableEnvelope names every problem.
func TestEnqueueRefusesAnUnsendableEnvelope(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	o, _ := e.newOutbox(t, e.smtp, nil)
	_, err := o.Enqueue(context.Background(), mail.Envelope{After: &mail.EventRef{EventID: "x"}})
	for _, want := range []string{"empty recipient", "empty subject", "no kind", "no expiry", "no stream", "no valid id"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if e.queued(t) != 0 {
		t.Error("an invalid envelope was queued")
	}
}
