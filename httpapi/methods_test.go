package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestWrongMethodIs405WithAllow: a known path with a method it does not
// have answers 405 with Allow and the error body, on the root router and
// under /api alike; an unknown path stays 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	s := newTestServer(t)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/api/accounts", "POST"},
		{http.MethodPost, "/healthz", "GET"},
		{http.MethodPost, "/api/me", "DELETE, GET"},
		{http.MethodGet, "/api/admin/videos/0b6f3f1e-8c3c-4a53-9a51-2f6f1f7d0a11", "DELETE, PATCH"},
		{http.MethodPut, "/api/audit/accounts/by-email/events", "GET"},
	} {
		rec := doRequest(t, s, c.method, c.path, "", nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405; body %s", c.method, c.path, rec.Code, rec.Body.String())
			continue
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		if e := errorOf(t, rec); e.Code != "method_not_allowed" {
			t.Errorf("%s %s: code %q", c.method, c.path, e.Code)
		}
	}
	rec := doRequest(t, s, http.MethodGet, "/api/nothing-here", "", nil)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"not_found"`) {
		t.Errorf("GET /api/nothing-here: %d %s", rec.Code, rec.Body.String())
	}
}
