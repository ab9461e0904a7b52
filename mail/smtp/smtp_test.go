package smtp_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/mail"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/mail/smtp"
)

func newMailpitMailer(t *testing.T, cfg smtp.Config) (*smtp.Mailer, *mailpit.Client) {
	t.Helper()
	mp := mailpit.Require(t)
	cfg.Addr = mailpit.SMTPAddrFromEnv()
	m, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("smtp.New: %v", err)
	}
	return m, mp
}

func TestSendThroughMailpit(t *testing.T) {
	t.Parallel()
	m, mp := newMailpitMailer(t, smtp.Config{From: "Portal <portal@example.test>"})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	to := mailpit.UniqueAddress("send", "")
	want := mail.Message{To: to, Subject: "Confirm your account", Text: "Your code is 123456.\nIt expires in 15 minutes."}
	if err := m.Send(ctx, want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := mp.WaitForMessage(ctx, to, "Confirm")
	if err != nil {
		t.Fatalf("WaitForMessage: %v", err)
	}
	if got.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	}
	if strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")) != want.Text {
		t.Errorf("Text = %q, want %q", got.Text, want.Text)
	}
	if got.From == nil || got.From.Address != "portal@example.test" {
		t.Errorf("From = %+v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Address != to {
		t.Errorf("To = %+v, want %s", got.To, to)
	}
	if err := mp.Delete(ctx, got.ID); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

func TestSendWithCredentialsThroughMailpit(t *testing.T) {
	t.Parallel()
	// ensure-mailpit.sh starts Mailpit with --smtp-auth-accept-any.
	m, mp := newMailpitMailer(t, smtp.Config{Username: "portal", Password: "secret"})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	to := mailpit.UniqueAddress("auth", "")
	if err := m.Send(ctx, mail.Message{To: to, Subject: "Authenticated", Text: "hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := mp.WaitForMessage(ctx, to, "Authenticated")
	if err != nil {
		t.Fatalf("WaitForMessage: %v", err)
	}
	if got.Username != "portal" {
		t.Errorf("Mailpit saw SMTP user %q, want portal", got.Username)
	}
}

// TestSendKeepsMessageIDAndDate: a mail sent twice with the same
// Message-ID and Date (an outbox re-send after a crash) arrives twice with
// the same headers, so mail programs can tell it is one mail.
func TestSendKeepsMessageIDAndDate(t *testing.T) {
	t.Parallel()
	m, mp := newMailpitMailer(t, smtp.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	to := mailpit.UniqueAddress("msgid", "")
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	msg := mail.Message{To: to, Subject: "Same mail", Text: "hello", MessageID: "0190-test-" + strings.Split(to, "@")[0] + "@example.test", Date: date}
	for range 2 {
		if err := m.Send(ctx, msg); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	var hits []mailpit.Summary
	for {
		var err error
		if hits, err = mp.SearchAll(ctx, "to:"+to); err != nil {
			t.Fatal(err)
		}
		if len(hits) >= 2 || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(hits) != 2 {
		t.Fatalf("%d messages arrived, want 2", len(hits))
	}
	for _, h := range hits {
		if h.MessageID != msg.MessageID {
			t.Errorf("Message-ID = %q, want %q", h.MessageID, msg.MessageID)
		}
		got, err := mp.Get(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Date.Equal(date) {
			t.Errorf("Date = %v, want %v", got.Date, date)
		}
	}
}

func TestWaitForMessageHonoursContext(t *testing.T) {
	t.Parallel()
	mp := mailpit.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := mp.WaitForMessage(ctx, mailpit.UniqueAddress("nobody", ""), "")
	if !errors.Is(err, mailpit.ErrNoMessage) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForMessage = %v, want ErrNoMessage and DeadlineExceeded", err)
	}
}

func TestSendInvalidMessageIsPermanent(t *testing.T) {
	t.Parallel()
	m, err := smtp.New(smtp.Config{Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "nobody", Subject: "x"})
	if !errors.Is(err, mail.ErrInvalidMessage) || !mail.IsPermanent(err) {
		t.Fatalf("Send = %v, want ErrInvalidMessage", err)
	}
}

func TestSendConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there any more
	m, err := smtp.New(smtp.Config{Addr: addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "a@example.test", Subject: "x", Text: "y"})
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("Send = %v, want a transient error", err)
	}
}

// fakeSMTPServer is a test double of an SMTP server: it answers RCPT TO
// with rcptReply, or never answers after the greeting when rcptReply is "".
func fakeSMTPServer(t *testing.T, rcptReply string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				w := bufio.NewWriter(conn)
				reply := func(s string) { _, _ = w.WriteString(s + "\r\n"); _ = w.Flush() }
				reply("220 fake ESMTP")
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						if rcptReply == "" {
							continue // hang
						}
						reply("250-fake")
						reply("250 8BITMIME")
					case strings.HasPrefix(cmd, "RCPT"):
						reply(rcptReply)
					case strings.HasPrefix(cmd, "QUIT"):
						reply("221 bye")
						return
					default:
						reply("250 ok")
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestSendPermanentRejectionIsErrRejected(t *testing.T) {
	t.Parallel()
	m, err := smtp.New(smtp.Config{Addr: fakeSMTPServer(t, "550 5.1.1 no such user")})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "gone@example.test", Subject: "x", Text: "y"})
	if !errors.Is(err, mail.ErrRejected) {
		t.Fatalf("Send = %v, want ErrRejected", err)
	}
}

func TestSendTemporaryRejectionIsTransient(t *testing.T) {
	t.Parallel()
	m, err := smtp.New(smtp.Config{Addr: fakeSMTPServer(t, "451 4.3.0 try again later")})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "later@example.test", Subject: "x", Text: "y"})
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("Send = %v, want a transient error", err)
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	m, err := smtp.New(smtp.Config{Addr: fakeSMTPServer(t, ""), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Send(ctx, mail.Message{To: "slow@example.test", Subject: "x", Text: "y"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send returned after %s, want about 200ms", d)
	}
}
