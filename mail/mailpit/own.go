package mailpit

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a Mailpit process of one test's own, on free loopback ports
// that stay the same across Stop and Start, so the test can take mail
// away and bring it back without touching the Mailpit other tests share.
type Server struct {
	// SMTPAddr is the SMTP listener, host:port.
	SMTPAddr string
	// URL is the HTTP API's base URL.
	URL string
	// Client talks to its API.
	Client *Client

	bin string
	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// StartOwn starts a Mailpit of the test's own from MAILPIT_BIN (set by
// scripts/with-test-env.sh) on free ports and stops it when the test ends.
// Without MAILPIT_BIN the test fails in a provisioned run (CI,
// TEST_MAILPIT_URL or TEST_SMTP_ADDR set) and is skipped otherwise.
func StartOwn(t testing.TB) *Server {
	t.Helper()
	bin := strings.TrimSpace(os.Getenv("MAILPIT_BIN"))
	if bin == "" {
		if os.Getenv("CI") != "" || os.Getenv("TEST_MAILPIT_URL") != "" || os.Getenv("TEST_SMTP_ADDR") != "" {
			t.Fatal("mailpit: MAILPIT_BIN is not set (scripts/with-test-env.sh sets it)")
		}
		t.Skip("mailpit: MAILPIT_BIN is not set, skipping (make test sets it)")
	}
	smtpPort, httpPort := freePort(t), freePort(t)
	s := &Server{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort),
		URL:      fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		bin:      bin,
	}
	s.Client = New(s.URL)
	f, err := os.Create(t.TempDir() + "/mailpit.log")
	if err != nil {
		t.Fatal(err)
	}
	s.log = f
	t.Cleanup(func() { s.Stop(t); _ = f.Close() })
	s.Start(t)
	return s
}

// Start starts the process (again) on the same ports and waits until both
// listeners answer.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		t.Fatal("mailpit: Start while running")
	}
	_, httpPort, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	cmd := exec.Command(s.bin, "--smtp", s.SMTPAddr, "--listen", "127.0.0.1:"+httpPort,
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("mailpit: start %s: %v", s.bin, err)
	}
	s.cmd = cmd
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := s.Client.Ping(ctx)
		if err == nil {
			var conn net.Conn
			if conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", s.SMTPAddr); err == nil {
				_ = conn.Close()
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mailpit: own Mailpit did not answer within 30 s: %v (log %s)", err, s.log.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 5 s) and waits until
// its SMTP port refuses connections. Its messages are gone with it.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
