package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// serveProc is a `multimedia serve` process of the real binary.
type serveProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	base string
	// operator is the operator listener's base URL (METRICS_ADDR).
	operator string
}

// startServeProc starts the binary with env on a free port and waits
// until it answers /healthz.
func startServeProc(t *testing.T, bin string, env map[string]string) *serveProc {
	t.Helper()
	addr, opAddr := freeAddr(t), freeAddr(t)
	p := &serveProc{cmd: exec.Command(bin, "serve"), out: &syncBuffer{}, base: "http://" + addr, operator: "http://" + opAddr}
	p.cmd.Env = append(os.Environ(), "HTTP_ADDR="+addr, "LOG_FORMAT=json", "RATE_LIMIT=off", "METRICS_ADDR="+opAddr)
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", tail(p.out.String()))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			t.Fatalf("serve did not answer: %v\n%s", err, tail(p.out.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metric returns the value of the sample of /metrics whose line starts
// with prefix (name and labels), or -1 when there is none.
func (p *serveProc) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	resp, err := http.Get(p.operator + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func mailTestEnv(t *testing.T, smtpAddr string) map[string]string {
	return map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t),
		"SMTP_ADDR":    smtpAddr,
		"SECRET_KEY":   "mail-outbox-e2e-secret-of-32-bytes!",
	}
}

func (p *serveProc) register(t *testing.T, email, pw string) {
	t.Helper()
	if st, body := call(t, "POST", p.base+"/api/accounts", "", map[string]any{"email": email, "password": pw, "newsletter": false}); st != http.StatusAccepted {
		t.Fatalf("register %s: %d %v", email, st, body)
	}
}

// TestMailSurvivesAnSMTPOutageAndSIGKILL is issue 11's operator test: with
// Mailpit stopped, 30 registrations answer 202; serve is killed with
// SIGKILL and started again; then Mailpit comes back on the same ports.
// Every one of the 30 mails arrives within 30 s of Mailpit's return, and
// its code verifies.
func TestMailSurvivesAnSMTPOutageAndSIGKILL(t *testing.T) {
	pit := mailpit.StartOwn(t)
	pit.Stop(t)
	bin := projTestBinary(t)
	env := mailTestEnv(t, pit.SMTPAddr)
	p := startServeProc(t, bin, env)

	const n = 30
	const pw = "Outage-Survivor-93"
	emails := make([]string, n)
	for i := range emails {
		emails[i] = mailpit.UniqueAddress(fmt.Sprintf("outage%02d", i), "example.com")
		p.register(t, emails[i], pw)
	}
	pool := pgtest.Connect(t, env["DATABASE_URL"], false)
	var queued int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != n {
		t.Fatalf("%d mails queued after %d registrations, want %d", queued, n, n)
	}
	if st, body := call(t, "GET", p.base+"/readyz", "", nil); st != http.StatusOK {
		t.Errorf("readyz while SMTP is down: %d %v, want 200", st, body)
	}
	time.Sleep(6 * time.Second) // the relay tries and fails; the gauges refresh every 5 s
	depth := p.metric(t, `multimedia_mail_outbox_depth{kind="verification_code",state="ready"}`)
	age := p.metric(t, `multimedia_mail_outbox_oldest_age_seconds`)
	failures := p.metric(t, `multimedia_mail_delivery_failures_total{kind="verification_code"}`)
	t.Logf("while SMTP is down: depth %v, oldest age %.1f s, failed attempts %v", depth, age, failures)
	if depth != n || age <= 0 || failures < 1 {
		t.Errorf("metrics while SMTP is down: depth %v (want %d), oldest age %v (want > 0), failures %v (want > 0)", depth, n, age, failures)
	}
	p.kill(t)

	p = startServeProc(t, bin, env)
	time.Sleep(2 * time.Second) // the new relay tries and fails too
	pit.Start(t)
	back := time.Now()

	ctx, cancel := context.WithDeadline(context.Background(), back.Add(30*time.Second))
	defer cancel()
	codes := make([]string, n)
	for i, email := range emails {
		msg, err := pit.Client.WaitForMessage(ctx, email, "verification code")
		if err != nil {
			t.Fatalf("mail %d of %d did not arrive within 30 s of Mailpit's return: %v", i+1, n, err)
		}
		codes[i] = codeRe.FindString(msg.Text)
	}
	var last time.Time
	for _, email := range emails {
		hits, err := pit.Client.SearchAll(context.Background(), "to:"+email)
		if err != nil || len(hits) != 1 {
			t.Fatalf("%s: %d mails (%v), want 1", email, len(hits), err)
		}
		if hits[0].Created.After(last) {
			last = hits[0].Created
		}
	}
	t.Logf("all %d mails arrived, one each; the last %s after Mailpit came back", n, last.Sub(back).Round(time.Millisecond))
	for i, email := range emails {
		if st, body := call(t, "POST", p.base+"/api/accounts/verify", "", map[string]any{"email": email, "code": codes[i], "password": pw}); st != http.StatusOK {
			t.Errorf("verify %s with its mailed code: %d %v", email, st, body)
		}
	}
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 0 {
		t.Errorf("%d mails still queued after delivery", queued)
	}
}

// holdingProxy forwards SMTP to upstream, but holds back the server's
// reply to the end of a message's DATA: the server has accepted (and
// stored) the mail, and the sender never learns it.
type holdingProxy struct {
	ln       net.Listener
	upstream string
	accepted chan struct{}
	once     sync.Once
}

func newHoldingProxy(t *testing.T, upstream string) *holdingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdingProxy{ln: ln, upstream: upstream, accepted: make(chan struct{})}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *holdingProxy) serve(client net.Conn) {
	defer client.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	var dataEnded atomic.Bool
	go func() {
		var last []byte
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				window := append(last, buf[:n]...)
				if bytes.Contains(window, []byte("\r\n.\r\n")) {
					dataEnded.Store(true)
				}
				last = append([]byte(nil), window[max(0, len(window)-4):]...)
				if _, werr := up.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			if dataEnded.Load() {
				p.once.Do(func() { close(p.accepted) })
				_, _ = io.Copy(io.Discard, up) // hold the reply for good
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestMailCutOffMidDeliveryIsResentWithTheSameMessageID: serve dies
// (SIGKILL) while a mail is being delivered, after the SMTP server stored
// it and before serve learnt so; after a restart the mail is delivered
// again, with the same Message-ID, so mail programs can tell it is one
// mail.
func TestMailCutOffMidDeliveryIsResentWithTheSameMessageID(t *testing.T) {
	pit := mailpit.StartOwn(t)
	proxy := newHoldingProxy(t, pit.SMTPAddr)
	bin := projTestBinary(t)
	env := mailTestEnv(t, proxy.ln.Addr().String())
	p := startServeProc(t, bin, env)
	email := mailpit.UniqueAddress("cutoff", "example.com")
	p.register(t, email, "Cut-Off-Delivery-93")
	select {
	case <-proxy.accepted:
	case <-time.After(30 * time.Second):
		t.Fatal("the mail never reached the end of its DATA")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := pit.Client.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	p.kill(t) // mid-delivery: the reply to DATA is still held

	env["SMTP_ADDR"] = pit.SMTPAddr
	startServeProc(t, bin, env)
	var hits []mailpit.Summary
	for len(hits) < 2 && ctx.Err() == nil {
		if hits, err = pit.Client.SearchAll(ctx, "to:"+email); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(hits) != 2 {
		t.Fatalf("Mailpit holds %d copies, want 2 (the cut-off delivery and the re-send)", len(hits))
	}
	for _, h := range hits {
		if h.MessageID != first.MessageID || h.MessageID == "" {
			t.Errorf("Message-IDs %q and %q differ", h.MessageID, first.MessageID)
		}
	}
	t.Logf("re-sent after the restart with the same Message-ID %s", first.MessageID)
}
