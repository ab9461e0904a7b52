package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestIPv6ClientsAreLimitedPerSlash64: one subscriber holds a whole /64,
// so the per-IP limit keys IPv6 by /64: fresh addresses from the same /64
// share one budget, another /64 has its own.
func TestIPv6ClientsAreLimitedPerSlash64(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RateLimit = RateLimit{Count: 3, Period: time.Minute} })
	from := func(peer string) int {
		req := httptest.NewRequest(http.MethodPost, "/api/password-resets", strings.NewReader(`{"email":"nobody@example.com"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = peer
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, peer := range []string{"[2001:db8:1:2::a]:1000", "[2001:db8:1:2::b]:1000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1000"} {
		if got := from(peer); got != http.StatusAccepted {
			t.Fatalf("%s: %d, want 202", peer, got)
		}
	}
	if got := from("[2001:db8:1:2:1234::99]:1000"); got != http.StatusTooManyRequests {
		t.Errorf("a fourth address of the same /64: %d, want 429", got)
	}
	if got := from("[2001:db8:1:3::a]:1000"); got != http.StatusAccepted {
		t.Errorf("another /64: %d, want 202", got)
	}
	if got := from("198.51.100.7:1000"); got != http.StatusAccepted {
		t.Errorf("an IPv4 client: %d, want 202", got)
	}
}

// TestEveryJSONReplySaysNosniff: success, refusal and routing replies all
// carry X-Content-Type-Options: nosniff.
func TestEveryJSONReplySaysNosniff(t *testing.T) {
	s := newTestServer(t)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/healthz", nil},
		{http.MethodGet, "/readyz", nil},
		{http.MethodGet, "/openapi.yaml", nil},
		{http.MethodPost, "/api/password-resets", map[string]any{"email": "nobody@example.com"}},
		{http.MethodPost, "/api/password-resets", map[string]any{"email": "<nobody@example.com>"}},
		{http.MethodGet, "/api/me", nil},
		{http.MethodGet, "/api/no-such-thing", nil},
		{http.MethodGet, "/api/sessions", nil},
	} {
		rec := doRequest(t, s, c.method, c.path, "", c.body)
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s → %d: X-Content-Type-Options %q, want nosniff", c.method, c.path, rec.Code, got)
		}
	}
}

// TestInvalidUTF8IsRefused: encoding/json replaced invalid UTF-8 (and
// escaped lone surrogates) with U+FFFD, so a password or address was
// silently not what was sent. Both answer 400 invalid_utf8 now; a proper
// surrogate pair is fine.
func TestInvalidUTF8IsRefused(t *testing.T) {
	s := newTestServer(t)
	email := uniqueEmail("utf8")
	for _, body := range []string{
		`{"email":"` + email + `","password":"Correct-Horse-42-` + "\xff" + `"}`,
		`{"email":"` + email + `","password":"Correct-Horse-42-` + "\xed\xa0\x80" + `"}`,
		`{"email":"` + email + `","password":"Correct-Horse-42-\ud800"}`,
		`{"email":"` + email + `","password":"Correct-Horse-42-\uDE00x"}`,
		`{"email":"` + email + `","password":"Correct-Horse-42-\ud83dx"}`,
	} {
		rec := doRequest(t, s, http.MethodPost, "/api/accounts", "", body)
		wantStatus(t, rec, http.StatusBadRequest)
		if got := errorOf(t, rec).Code; got != "invalid_utf8" {
			t.Errorf("%q: code %q, want invalid_utf8", body, got)
		}
	}
	// An escaped backslash before "u" is not an escape; a pair is fine.
	for _, body := range []string{
		`{"email":"` + email + `","password":"Correct-Horse-42-\\ud800"}`,
		`{"email":"` + email + `","password":"Correct-Horse-42-\ud83d\ude00"}`,
	} {
		rec := doRequest(t, s, http.MethodPost, "/api/accounts", "", body)
		wantStatus(t, rec, http.StatusAccepted)
	}
}
