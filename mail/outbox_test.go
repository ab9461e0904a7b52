package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/mail"
)

// flakyMailerDouble is a test double of mail.Mailer: its first failures
// calls fail with failErr, later calls succeed. It records what it sent.
type flakyMailerDouble struct {
	failures int32
	failErr  error
	calls    atomic.Int32
	mu       sync.Mutex
	sent     []mail.Message
}

func (d *flakyMailerDouble) Send(ctx context.Context, msg mail.Message) error {
	n := d.calls.Add(1)
	if n <= d.failures {
		return d.failErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, msg)
	return nil
}

// blockingMailerDouble is a test double of mail.Mailer that blocks every
// send until its context ends.
type blockingMailerDouble struct{ started chan struct{} }

func (d *blockingMailerDouble) Send(ctx context.Context, _ mail.Message) error {
	select {
	case d.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

func fastConfig(logs *bytes.Buffer) mail.OutboxConfig {
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		logger = slog.New(slog.DiscardHandler)
	}
	return mail.OutboxConfig{
		MaxAttempts:  5,
		BaseBackoff:  time.Millisecond,
		MaxBackoff:   5 * time.Millisecond,
		DrainTimeout: 2 * time.Second,
		Logger:       logger,
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func message(secret string) mail.Message {
	return mail.Message{To: "ada.lovelace@example.test", Subject: "Confirm your account", Text: "Your code is " + secret}
}

// runOutbox starts o.Run and returns a function that stops it and returns
// Run's result.
func runOutbox(t *testing.T, o *mail.Outbox) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Outbox.Run did not return after cancel")
			return nil
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOutboxRetriesTransientFailuresThenSends(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	double := &flakyMailerDouble{failures: 2, failErr: errors.New("connection refused")}
	o := mail.NewOutbox(double, fastConfig(&logs))
	stop := runOutbox(t, o)

	if err := o.Enqueue(message("123456")); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	waitFor(t, "one sent", func() bool { return o.Sent() == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := double.calls.Load(); got != 3 {
		t.Errorf("Send calls = %d, want 3", got)
	}
	if o.Sent() != 1 || o.Failed() != 0 || o.Dropped() != 0 {
		t.Errorf("counters sent/failed/dropped = %d/%d/%d, want 1/0/0", o.Sent(), o.Failed(), o.Dropped())
	}
	if n := strings.Count(logs.String(), "retrying"); n != 2 {
		t.Errorf("log has %d retry lines, want 2:\n%s", n, logs.String())
	}
}

func TestOutboxGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	double := &flakyMailerDouble{failures: 100, failErr: errors.New("451 try later")}
	cfg := fastConfig(nil)
	cfg.MaxAttempts = 3
	o := mail.NewOutbox(double, cfg)
	stop := runOutbox(t, o)
	_ = o.Enqueue(message("1"))
	waitFor(t, "one failed", func() bool { return o.Failed() == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := double.calls.Load(); got != 3 {
		t.Errorf("Send calls = %d, want 3 (MaxAttempts)", got)
	}
	if o.Sent() != 0 {
		t.Errorf("Sent = %d, want 0", o.Sent())
	}
}

func TestOutboxDoesNotRetryPermanentErrors(t *testing.T) {
	t.Parallel()
	double := &flakyMailerDouble{failures: 100, failErr: errors.Join(mail.ErrRejected, errors.New("550 no such user"))}
	o := mail.NewOutbox(double, fastConfig(nil))
	stop := runOutbox(t, o)
	_ = o.Enqueue(message("1"))
	waitFor(t, "one failed", func() bool { return o.Failed() == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := double.calls.Load(); got != 1 {
		t.Errorf("Send calls = %d, want 1", got)
	}
}

func TestOutboxEnqueueNeverBlocksAndCountsDrops(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(nil)
	cfg.QueueSize = 2
	o := mail.NewOutbox(&flakyMailerDouble{}, cfg) // not running: nothing drains

	for i := range 2 {
		if err := o.Enqueue(message("1")); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	start := time.Now()
	err := o.Enqueue(message("1"))
	if !errors.Is(err, mail.ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue = %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Enqueue on a full queue took %s", d)
	}
	if o.Dropped() != 1 || o.Queued() != 2 {
		t.Errorf("Dropped/Queued = %d/%d, want 1/2", o.Dropped(), o.Queued())
	}
}

func TestOutboxRejectsInvalidMessages(t *testing.T) {
	t.Parallel()
	o := mail.NewOutbox(&flakyMailerDouble{}, fastConfig(nil))
	err := o.Enqueue(mail.Message{To: "not an address", Subject: ""})
	if !errors.Is(err, mail.ErrInvalidMessage) {
		t.Fatalf("Enqueue = %v, want ErrInvalidMessage", err)
	}
	if o.Failed() != 1 || o.Queued() != 0 {
		t.Errorf("Failed/Queued = %d/%d, want 1/0", o.Failed(), o.Queued())
	}
}

func TestOutboxDrainsQueueOnShutdown(t *testing.T) {
	t.Parallel()
	double := &flakyMailerDouble{}
	o := mail.NewOutbox(double, fastConfig(nil))
	for range 20 {
		if err := o.Enqueue(message("1")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // shut down at once: everything queued must still go out
	if err := o.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if o.Sent() != 20 {
		t.Errorf("Sent = %d, want 20", o.Sent())
	}
	if err := o.Enqueue(message("1")); !errors.Is(err, mail.ErrOutboxClosed) {
		t.Errorf("Enqueue after shutdown = %v, want ErrOutboxClosed", err)
	}
	if err := o.Run(context.Background()); err == nil {
		t.Error("second Run returned nil, want an error")
	}
}

func TestOutboxShutdownGraceIsBounded(t *testing.T) {
	t.Parallel()
	double := &blockingMailerDouble{started: make(chan struct{}, 1)}
	cfg := fastConfig(nil)
	cfg.DrainTimeout = 50 * time.Millisecond
	o := mail.NewOutbox(double, cfg)
	stop := runOutbox(t, o)
	_ = o.Enqueue(message("1"))
	_ = o.Enqueue(message("2"))
	<-double.started
	start := time.Now()
	err := stop()
	if err == nil {
		t.Fatal("Run returned nil, want an error naming the abandoned messages")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s, want about DrainTimeout", d)
	}
	if o.Dropped() != 2 || o.Sent() != 0 {
		t.Errorf("Dropped/Sent = %d/%d, want 2/0", o.Dropped(), o.Sent())
	}
}

func TestOutboxNeverLogsBodyOrAddress(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	double := &flakyMailerDouble{failures: 1, failErr: errors.New("timeout")}
	o := mail.NewOutbox(double, fastConfig(&logs))
	stop := runOutbox(t, o)
	_ = o.Enqueue(message("SECRET-987654"))
	waitFor(t, "one sent", func() bool { return o.Sent() == 1 })
	_ = stop()

	out := logs.String()
	if strings.Contains(out, "SECRET-987654") {
		t.Errorf("log contains the body's secret:\n%s", out)
	}
	if strings.Contains(out, "ada.lovelace") {
		t.Errorf("log contains the recipient's local part:\n%s", out)
	}
	for _, want := range []string{`"to_domain":"example.test"`, `"subject":"Confirm your account"`, mail.RecipientHash("ada.lovelace@example.test")} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestOutboxIsAMailer(t *testing.T) {
	t.Parallel()
	var _ mail.Mailer = (*mail.Outbox)(nil)
}
