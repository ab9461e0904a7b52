package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// TestLoginDelaysAfterFailures: five wrong passwords, then 429 with
// Retry-After even for the right password; no permanent lock.
func TestLoginDelaysAfterFailures(t *testing.T) {
	e := newTestEnv(t)
	email := uniqueEmail("delay")
	registerVerified(t, e, email)
	for i := range 5 {
		rec := doRequest(t, e.server, http.MethodPost, "/api/sessions", "", map[string]any{"email": email, "password": "Wrong-Password-" + strconv.Itoa(i)})
		wantStatus(t, rec, http.StatusUnauthorized)
	}
	rec := doRequest(t, e.server, http.MethodPost, "/api/sessions", "", map[string]any{"email": email, "password": strongPassword})
	wantStatus(t, rec, http.StatusTooManyRequests)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	if got := errorOf(t, rec).Code; got != "login_delayed" {
		t.Fatalf("error code %q", got)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	login(t, e.server, email, strongPassword)
}

// TestPerIPRateLimit: RATE_LIMIT's count per period, then 429 with
// Retry-After; other clients are not affected.
func TestPerIPRateLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RateLimit = RateLimit{Count: 3, Period: time.Minute} })
	body := map[string]any{"email": "nobody@example.com"}
	for range 3 {
		wantStatus(t, doRequest(t, s, http.MethodPost, "/api/password-resets", "", body), http.StatusAccepted)
	}
	rec := doRequest(t, s, http.MethodPost, "/api/password-resets", "", body)
	wantStatus(t, rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// X-Forwarded-For from an untrusted peer is ignored: still limited.
	rec = doRequest(t, s, http.MethodPost, "/api/password-resets", "", body, "X-Forwarded-For", "203.0.113.9")
	wantStatus(t, rec, http.StatusTooManyRequests)
	// Health is never limited.
	wantStatus(t, doRequest(t, s, http.MethodGet, "/healthz", "", nil), http.StatusOK)
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	s := newTestServer(t, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	cases := []struct{ peer, xff, want string }{
		{"198.51.100.7:1000", "203.0.113.9", "198.51.100.7"},                 // untrusted peer: header ignored
		{"192.0.2.10:1000", "203.0.113.9", "203.0.113.9"},                    // trusted proxy
		{"192.0.2.10:1000", "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"}, // right-most untrusted
		{"192.0.2.10:1000", "garbage", "192.0.2.10"},
		{"192.0.2.10:1000", "", "192.0.2.10"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r).String(); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: got %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
