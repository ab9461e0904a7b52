package httpapi

import (
	"net/http"
	"testing"

	"github.com/multimedia-portal/multimedia/portal"
)

// TestPortalEraseClearsEveryCookie: "Delete my account" through the page
// clears the session and CSRF cookies and the device cookie too: the
// device token belonged to the erased account, and nothing of the account
// is left in the browser.
func TestPortalEraseClearsEveryCookie(t *testing.T) {
	e := newTestEnv(t)
	email := uniqueEmail("erase-cookies")
	verifiedAccount(t, e, email)
	rec := doRequest(t, e.server, http.MethodPost, "/api/portal/session", "", map[string]any{"email": email, "password": strongPassword},
		"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, rec, http.StatusCreated)
	sess, csrf, device := cookieOf(rec, portal.SessionCookie), cookieOf(rec, portal.CSRFCookie), cookieOf(rec, portal.DeviceCookie)
	if sess == nil || csrf == nil || device == nil {
		t.Fatalf("cookies of the page's login: %v", rec.Result().Cookies())
	}
	rec = doRequest(t, e.server, http.MethodDelete, "/api/me", "", map[string]any{"password": strongPassword},
		"Cookie", portal.SessionCookie+"="+sess.Value+"; "+portal.DeviceCookie+"="+device.Value,
		portal.CSRFHeader, csrf.Value, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, rec, http.StatusOK)
	for _, name := range []string{portal.SessionCookie, portal.CSRFCookie, portal.DeviceCookie} {
		if c := cookieOf(rec, name); c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("after the erasure cookie %s: got %+v, want cleared (empty, Max-Age<0)", name, c)
		}
	}
}
