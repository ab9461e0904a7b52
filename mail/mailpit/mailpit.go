package mailpit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Defaults used when the environment does not say otherwise.
const (
	DefaultURL      = "http://127.0.0.1:8025"
	DefaultSMTPAddr = "127.0.0.1:1025"
)

// URLFromEnv returns TEST_MAILPIT_URL, or DefaultURL.
func URLFromEnv() string {
	if v := strings.TrimSpace(os.Getenv("TEST_MAILPIT_URL")); v != "" {
		return strings.TrimRight(v, "/")
	}
	return DefaultURL
}

// SMTPAddrFromEnv returns TEST_SMTP_ADDR, or DefaultSMTPAddr.
func SMTPAddrFromEnv() string {
	if v := strings.TrimSpace(os.Getenv("TEST_SMTP_ADDR")); v != "" {
		return v
	}
	return DefaultSMTPAddr
}

// Address is a mailbox as Mailpit reports it.
type Address struct {
	// Name is the display name, possibly empty.
	Name string `json:"Name"`
	// Address is the e-mail address.
	Address string `json:"Address"`
}

// Summary is one search hit (GET /api/v1/search).
type Summary struct {
	// ID is Mailpit's database id of the message.
	ID string `json:"ID"`
	// MessageID is the Message-ID header.
	MessageID string `json:"MessageID"`
	// From is the sender.
	From *Address `json:"From"`
	// To are the recipients.
	To []Address `json:"To"`
	// Subject is the subject line.
	Subject string `json:"Subject"`
	// Created is when Mailpit received it.
	Created time.Time `json:"Created"`
	// Snippet is the start of the text.
	Snippet string `json:"Snippet"`
}

// Message is one message with its bodies (GET /api/v1/message/{ID}).
type Message struct {
	// ID is Mailpit's database id of the message.
	ID string `json:"ID"`
	// MessageID is the Message-ID header.
	MessageID string `json:"MessageID"`
	// From is the sender.
	From *Address `json:"From"`
	// To are the recipients.
	To []Address `json:"To"`
	// Subject is the subject line.
	Subject string `json:"Subject"`
	// Date is the Date header, or when Mailpit received it.
	Date time.Time `json:"Date"`
	// Text is the plain-text body.
	Text string `json:"Text"`
	// HTML is the HTML body, if any.
	HTML string `json:"HTML"`
	// Username is the SMTP AUTH user the sender logged in as, if any.
	Username string `json:"Username"`
}

// Client talks to one Mailpit's HTTP API.
type Client struct {
	base string
	http *http.Client
	// PollInterval is the pause between two searches of WaitForMessage
	// (default 50ms).
	PollInterval time.Duration
}

// New returns a Client of the Mailpit whose HTTP API is at baseURL (e.g.
// "http://127.0.0.1:8025").
func New(baseURL string) *Client {
	return &Client{
		base:         strings.TrimRight(baseURL, "/"),
		http:         &http.Client{Timeout: 10 * time.Second},
		PollInterval: 50 * time.Millisecond,
	}
}

// FromEnv returns a Client of URLFromEnv().
func FromEnv() *Client { return New(URLFromEnv()) }

// Require returns a Client of URLFromEnv() once Mailpit answers there, and
// SMTPAddrFromEnv() accepts connections. When it does not, the test fails
// if CI, TEST_MAILPIT_URL or TEST_SMTP_ADDR is set (a provisioned run, such
// as `make test`), and is skipped otherwise (a bare `go test`).
func Require(t testing.TB) *Client {
	t.Helper()
	c := FromEnv()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Ping(ctx)
	if err == nil {
		var conn net.Conn
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", SMTPAddrFromEnv())
		if err == nil {
			_ = conn.Close()
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("TEST_MAILPIT_URL") != "" || os.Getenv("TEST_SMTP_ADDR") != "" {
			t.Fatalf("mailpit: not reachable (run scripts/ensure-mailpit.sh or make test): %v", err)
		}
		t.Skipf("mailpit: not reachable, skipping (make test starts it): %v", err)
	}
	return c
}

// UniqueAddress returns a fresh random address at domain (default
// "example.test"), prefix first: e.g. "verify-3f9a0c1b2d4e@example.test".
func UniqueAddress(prefix, domain string) string {
	if domain == "" {
		domain = "example.test"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	if prefix == "" {
		prefix = "t"
	}
	return fmt.Sprintf("%s-%s@%s", strings.ToLower(prefix), hex.EncodeToString(b[:]), domain)
}

// Ping checks that the API answers (GET /api/v1/info).
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/api/v1/info", nil, nil)
}

// Search returns the messages matching query, in Mailpit's search syntax
// (e.g. `to:"ada@example.test" subject:"Confirm"`), newest first, at most
// 50 of them.
func (c *Client) Search(ctx context.Context, query string) ([]Summary, error) {
	var out struct {
		Messages []Summary `json:"messages"`
	}
	path := "/api/v1/search?query=" + url.QueryEscape(query)
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// SearchAll returns every message matching query, newest first, paging
// through the API 200 at a time.
func (c *Client) SearchAll(ctx context.Context, query string) ([]Summary, error) {
	var all []Summary
	for start := 0; ; {
		var out struct {
			Messages      []Summary `json:"messages"`
			MessagesCount int       `json:"messages_count"`
		}
		path := fmt.Sprintf("/api/v1/search?query=%s&start=%d&limit=200", url.QueryEscape(query), start)
		if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Messages...)
		start += len(out.Messages)
		if len(out.Messages) == 0 || start >= out.MessagesCount {
			return all, nil
		}
	}
}

// Get returns the message with Mailpit id, bodies included.
func (c *Client) Get(ctx context.Context, id string) (Message, error) {
	var m Message
	err := c.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id), nil, &m)
	return m, err
}

// Delete deletes the messages with the given Mailpit ids. With no id it
// does nothing (unlike DeleteAll).
func (c *Client) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	body, _ := json.Marshal(struct{ IDs []string }{ids})
	return c.do(ctx, http.MethodDelete, "/api/v1/messages", body, nil)
}

// DeleteAll deletes every message in the Mailpit. Tests running in
// parallel share it: prefer unique recipients to deleting.
func (c *Client) DeleteAll(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/messages", nil, nil)
}

// ErrNoMessage is wrapped by WaitForMessage's error when ctx ended before a
// matching message arrived.
var ErrNoMessage = errors.New("mailpit: no matching message")

// WaitForMessage polls until a message to the address to, whose subject
// contains subjectContains (any subject when empty), has arrived, and
// returns it with its bodies; the newest one when several match. ctx bounds
// the wait; on expiry the error wraps ErrNoMessage and ctx.Err().
func (c *Client) WaitForMessage(ctx context.Context, to, subjectContains string) (Message, error) {
	query := "to:" + quote(to)
	var lastErr error
	for {
		hits, err := c.Search(ctx, query)
		if err == nil {
			for _, h := range hits {
				if strings.Contains(h.Subject, subjectContains) && hasRecipient(h.To, to) {
					return c.Get(ctx, h.ID)
				}
			}
		} else {
			lastErr = err
		}
		t := time.NewTimer(c.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil {
				return Message{}, fmt.Errorf("%w to %s (subject containing %q): %w (last error: %v)", ErrNoMessage, to, subjectContains, ctx.Err(), lastErr)
			}
			return Message{}, fmt.Errorf("%w to %s (subject containing %q): %w", ErrNoMessage, to, subjectContains, ctx.Err())
		case <-t.C:
		}
	}
}

func hasRecipient(list []Address, addr string) bool {
	for _, a := range list {
		if strings.EqualFold(a.Address, addr) {
			return true
		}
	}
	return false
}

// quote quotes s for Mailpit's search syntax.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, ``) + `"`
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("mailpit: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mailpit: %s %s: decoding: %w", method, path, err)
	}
	return nil
}
