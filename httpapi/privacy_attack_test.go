package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/auth/password"
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

// blockingWriter is a ResponseWriter whose Write waits for release: an
// export stuck sending its reply, as to a slow client.
type blockingWriter struct {
	header  http.Header
	writing chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(p []byte) (int, error) {
	select {
	case w.writing <- struct{}{}:
	default:
	}
	<-w.release
	return len(p), nil
}

// TestExportsAreBounded: while ExportSlots exports are being prepared or
// sent, another answers 503 busy with Retry-After at once instead of
// holding one more account in memory; once one ends, exports work again.
// (An export holds the whole account in memory: a large account exported
// in a loop, many times at once, could exhaust the server's memory.)
func TestExportsAreBounded(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.ExportSlots = 1 })
	email := uniqueEmail("export-bound")
	verifiedAccount(t, e, email)
	sess := login(t, e.server, email, strongPassword)

	w := &blockingWriter{header: http.Header{}, writing: make(chan struct{}, 1), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest(http.MethodGet, "/api/me/export", nil)
		req.RemoteAddr = "192.0.2.10:4321"
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		e.server.ServeHTTP(w, req)
	}()
	select {
	case <-w.writing:
	case <-done:
		t.Fatal("the first export ended without writing its reply")
	}
	rec := doRequest(t, e.server, http.MethodGet, "/api/me/export", sess.Token, nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if got, want := errorOf(t, rec).Code, "busy"; got != want {
		t.Errorf("code of an export over the bound: got %s, want %s", got, want)
	}
	if got := rec.Header().Get("Retry-After"); got == "" {
		t.Error("an export over the bound has no Retry-After")
	}
	close(w.release)
	<-done
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/me/export", sess.Token, nil), http.StatusOK)
}

// TestEveryPasswordCheckHoldsAHashingSlot: erasing the account (its
// password confirmation) and the page's login compute argon2id like the
// API's login, so they hold a slot of the password gate too: with every
// slot taken they answer 503 busy with Retry-After and hash nothing.
// Without the gate, parallel erasures through one stolen session, or
// parallel page logins, took 19 MiB each without bound.
func TestEveryPasswordCheckHoldsAHashingSlot(t *testing.T) {
	gate := password.NewGate(1, 50*time.Millisecond)
	e := newTestEnv(t, func(c *Config) { c.PasswordGate = gate })
	email := uniqueEmail("slot")
	verifiedAccount(t, e, email)
	sess := login(t, e.server, email, strongPassword)
	release, err := gate.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before := e.passwords.calls.Load()
	for _, c := range []struct {
		name, method, path, token string
		headers                   []string
	}{
		{"erase", http.MethodDelete, "/api/me", sess.Token, nil},
		{"the page's login", http.MethodPost, "/api/portal/session", "", []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}},
	} {
		body := map[string]any{"email": email, "password": strongPassword}
		if c.method == http.MethodDelete {
			body = map[string]any{"password": strongPassword}
		}
		rec := doRequest(t, e.server, c.method, c.path, c.token, body, c.headers...)
		wantStatus(t, rec, http.StatusServiceUnavailable)
		if got, want := errorOf(t, rec).Code, "busy"; got != want {
			t.Errorf("%s with the gate full: code %s, want %s", c.name, got, want)
		}
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with the gate full: no Retry-After", c.name)
		}
	}
	if got := e.passwords.calls.Load(); got != before {
		t.Errorf("%d passwords hashed while the gate was full", got-before)
	}
	release()
	// Nothing was erased: the session still exports.
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/me/export", sess.Token, nil), http.StatusOK)
}

// TestPortalLoginHasTheLoginsReplyFloor: the page's login answers no
// sooner than the API login's floor, whatever the address, so that its
// timing tells no more than POST /api/sessions does about which addresses
// have accounts.
func TestPortalLoginHasTheLoginsReplyFloor(t *testing.T) {
	const floor = 300 * time.Millisecond
	e := newTestEnv(t, func(c *Config) { c.ReplyFloors = ReplyFloors{Login: floor} })
	start := time.Now()
	rec := doRequest(t, e.server, http.MethodPost, "/api/portal/session", "", map[string]any{"email": uniqueEmail("floor-nobody"), "password": strongPassword},
		"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, rec, http.StatusUnauthorized)
	if got := time.Since(start); got < floor {
		t.Errorf("the page's login answered after %s, want at least the login floor %s", got, floor)
	}
}

// TestExportRefusesAnUnknownFormat: the export is JSON only; a format it
// does not serve is refused with the parameter named, not answered with
// JSON the caller did not ask for.
func TestExportRefusesAnUnknownFormat(t *testing.T) {
	e := newTestEnv(t)
	email := uniqueEmail("export-format")
	verifiedAccount(t, e, email)
	sess := login(t, e.server, email, strongPassword)
	for _, q := range []string{"?format=zip", "?format=csv", "?format=", "?format=json&format=zip"} {
		rec := doRequest(t, e.server, http.MethodGet, "/api/me/export"+q, sess.Token, nil)
		wantStatus(t, rec, http.StatusBadRequest)
		if got, want := errorOf(t, rec).Code, "invalid_parameter"; got != want {
			t.Errorf("%s: code %s, want %s", q, got, want)
		}
		if !strings.Contains(rec.Body.String(), `parameter \"format\"`) {
			t.Errorf("%s: the message does not name the parameter: %s", q, rec.Body.String())
		}
	}
	wantStatus(t, doRequest(t, e.server, http.MethodGet, "/api/me/export?format=json", sess.Token, nil), http.StatusOK)
}
