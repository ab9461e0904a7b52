package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/portal"
)

// verifiedAccount registers and verifies email with strongPassword.
func verifiedAccount(t *testing.T, e *testEnv, email string) {
	t.Helper()
	register(t, e, email)
	code := e.codeFromMail(t, email, "verification code")
	rec := doRequest(t, e.server, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": email, "code": code, "password": strongPassword})
	wantStatus(t, rec, http.StatusOK)
}

func cookieOf(rec interface{ Result() *http.Response }, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestPortalSessionCookie: the page's login sets an HttpOnly SameSite=Strict
// cookie that authenticates only with its CSRF token, from this origin; the
// token itself never reaches the page; logout ends the session and clears
// the cookies; bearer tokens work as before.
func TestPortalSessionCookie(t *testing.T) {
	e := newTestEnv(t)
	email := uniqueEmail("cookie")
	verifiedAccount(t, e, email)

	// Another site's login form is refused before any work.
	rec := doRequest(t, e.server, http.MethodPost, "/api/portal/session", "", map[string]any{"email": email, "password": strongPassword},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	wantStatus(t, rec, http.StatusForbidden)
	if c := errorOf(t, rec).Code; c != "csrf_failed" {
		t.Fatalf("cross-site login: code %s", c)
	}

	rec = doRequest(t, e.server, http.MethodPost, "/api/portal/session", "", map[string]any{"email": email, "password": strongPassword},
		"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, rec, http.StatusCreated)
	if strings.Contains(rec.Body.String(), `"token"`) {
		t.Fatalf("the page login hands the token to the script: %s", rec.Body.String())
	}
	sess, csrf := cookieOf(rec, portal.SessionCookie), cookieOf(rec, portal.CSRFCookie)
	if sess == nil || csrf == nil || cookieOf(rec, portal.DeviceCookie) == nil {
		t.Fatalf("cookies: %v", rec.Result().Cookies())
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/api" || sess.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/api, not Secure over plain HTTP", sess)
	}
	if csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Value != portal.CSRFToken(sess.Value) {
		t.Errorf("CSRF cookie %+v: want readable, SameSite=Strict, the session's CSRF token", csrf)
	}
	cookie := portal.SessionCookie + "=" + sess.Value
	subscribe := map[string]any{"subscribed": true}

	for name, headers := range map[string][]string{
		"cookie alone":          {"Cookie", cookie},
		"a wrong CSRF token":    {"Cookie", cookie, portal.CSRFHeader, portal.CSRFToken("another session")},
		"another origin":        {"Cookie", cookie, portal.CSRFHeader, csrf.Value, "Origin", "https://evil.example"},
		"a cross-site fetch":    {"Cookie", cookie, portal.CSRFHeader, csrf.Value, "Sec-Fetch-Site", "same-site"},
		"the CSRF cookie only":  {"Cookie", portal.CSRFCookie + "=" + csrf.Value, portal.CSRFHeader, csrf.Value},
		"an empty CSRF header":  {"Cookie", cookie, portal.CSRFHeader, ""},
		"the token as its hash": {"Cookie", cookie, portal.CSRFHeader, sess.Value},
	} {
		rec := doRequest(t, e.server, http.MethodPut, "/api/me/newsletter", "", subscribe, headers...)
		if rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 403 or 401; body %s", name, rec.Code, rec.Body.String())
		}
	}
	rec = doRequest(t, e.server, http.MethodPut, "/api/me/newsletter", "", subscribe,
		"Cookie", cookie, portal.CSRFHeader, csrf.Value, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, rec, http.StatusOK)

	// Bearer tokens are untouched.
	bearerSess := login(t, e.server, email, strongPassword)
	rec = doRequest(t, e.server, http.MethodPut, "/api/me/newsletter", bearerSess.Token, map[string]any{"subscribed": false})
	wantStatus(t, rec, http.StatusOK)

	// Logout without the proof changes nothing; with it, ends the session.
	rec = doRequest(t, e.server, http.MethodDelete, "/api/portal/session", "", nil, "Cookie", cookie)
	wantStatus(t, rec, http.StatusForbidden)
	rec = doRequest(t, e.server, http.MethodDelete, "/api/portal/session", "", nil, "Cookie", cookie, portal.CSRFHeader, csrf.Value)
	wantStatus(t, rec, http.StatusOK)
	if c := cookieOf(rec, portal.SessionCookie); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout leaves the session cookie: %+v", c)
	}
	if c := cookieOf(rec, portal.CSRFCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout leaves the CSRF cookie: %+v", c)
	}
	rec = doRequest(t, e.server, http.MethodPut, "/api/me/newsletter", "", subscribe, "Cookie", cookie, portal.CSRFHeader, csrf.Value)
	wantStatus(t, rec, http.StatusUnauthorized)
	// A second logout (stale cookie) still answers and clears.
	rec = doRequest(t, e.server, http.MethodDelete, "/api/portal/session", "", nil, "Cookie", cookie, portal.CSRFHeader, csrf.Value)
	wantStatus(t, rec, http.StatusOK)

	// Over TLS the cookies are Secure.
	rec = doRequest(t, e.server, http.MethodPost, "https://portal.example/api/portal/session", "", map[string]any{"email": email, "password": strongPassword})
	wantStatus(t, rec, http.StatusCreated)
	for _, name := range []string{portal.SessionCookie, portal.CSRFCookie, portal.DeviceCookie} {
		if c := cookieOf(rec, name); c == nil || !c.Secure {
			t.Errorf("over TLS cookie %s is not Secure: %+v", name, c)
		}
	}

	// A wrong password: the API's words, 401.
	rec = doRequest(t, e.server, http.MethodPost, "/api/portal/session", "", map[string]any{"email": email, "password": "Wrong-Password-99"})
	wantStatus(t, rec, http.StatusUnauthorized)
	if m := errorOf(t, rec).Message; m != "the email address or the password is wrong" {
		t.Errorf("wrong password message %q", m)
	}
}

// TestPortalPages: the page paths answer the app shell under a strict CSP,
// unknown page paths the friendly 404 page, API paths their JSON 404.
func TestPortalPages(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/", "/register", "/verify", "/login", "/reset-password", "/videos", "/articles/nato-allies-discuss-missile-defence"} {
		rec := doRequest(t, s, http.MethodGet, path, "", nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %s", path, ct)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if !strings.Contains(rec.Body.String(), `<script type="module" src="/assets/app.js">`) {
			t.Errorf("%s: not the app shell", path)
		}
	}
	for path, ctype := range map[string]string{"/assets/app.js": "text/javascript", "/assets/api.js": "text/javascript",
		"/assets/style.css": "text/css"} {
		rec := doRequest(t, s, http.MethodGet, path, "", nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, ctype) || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Content-Type %s", path, ct)
		}
	}
	// HEAD, as a browser's or a link checker's probe, answers like GET
	// without the body.
	for _, path := range []string{"/", "/account", "/articles/nato-allies-discuss-missile-defence", "/assets/app.js"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, path, nil))
		if got, want := rec.Code, http.StatusOK; got != want {
			t.Errorf("HEAD %s: status %d, want %d", path, got, want)
		}
		if rec.Body.Len() != 0 || rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("HEAD %s: body %d bytes, CSP %q: want no body and the page's headers", path, rec.Body.Len(), rec.Header().Get("Content-Security-Policy"))
		}
	}
	// Paths the API document does not have: plain requests (doRequest
	// would hold them to the API's JSON 404).
	for _, path := range []string{"/nope", "/videos/extra", "/assets/nope.js", "/assets/portal.go", "/articles/a/b"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		wantStatus(t, rec, http.StatusNotFound)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(rec.Body.String(), "We could not find that page") {
			t.Errorf("%s: %s %q", path, ct, rec.Body.String())
		}
	}
	for _, path := range []string{"/api/nope", "/api", "/dashboard/nope.txt"} {
		rec := doRequest(t, s, http.MethodGet, path, "", nil)
		wantStatus(t, rec, http.StatusNotFound)
		if c := errorOf(t, rec).Code; c != "not_found" {
			t.Errorf("%s: code %s", path, c)
		}
	}
	rec := doRequest(t, s, http.MethodPost, "/nope", "", map[string]any{})
	if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /nope: %d", rec.Code)
	}
	errorOf(t, rec)
}
