package portal

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// The page's cookies and the header of its CSRF proof.
//
// Why cookies and not the bearer token in the page: a token in
// localStorage or script memory is readable by any script that ever runs
// on the origin (one XSS and every session leaks); an HttpOnly cookie is
// not. A cookie is sent by the browser on its own, so it authenticates only
// requests that also carry CSRFHeader with CSRFToken(session): a value a
// foreign page can neither read (the CSRF cookie is same-origin and
// SameSite=Strict) nor compute (it is a hash of the HttpOnly token). The
// Origin and Sec-Fetch-Site headers are checked as well, when the browser
// sends them.
const (
	// SessionCookie holds the session token: HttpOnly, SameSite=Strict,
	// Path=/api, Secure when the page came over TLS.
	SessionCookie = "mm_session"
	// CSRFCookie holds CSRFToken(session) for the page's script to echo in
	// CSRFHeader; it is readable by script (that is its purpose) and tells
	// the page that it is logged in.
	CSRFCookie = "mm_csrf"
	// DeviceCookie keeps the device token a login returned, so that later
	// logins from this browser skip the delays others' failed logins cause.
	DeviceCookie = "mm_device"
	// CSRFHeader carries the CSRF proof on every request the page makes.
	CSRFHeader = "X-CSRF-Token"
	// sessionPath limits the session cookie to the API.
	sessionPath = "/api"
	devicePath  = "/api/portal"
	deviceTTL   = 90 * 24 * time.Hour
)

// ErrCSRF means a request carried the session cookie without a valid CSRF
// proof, or came from another origin: it is not authenticated.
var ErrCSRF = errors.New("portal: the session cookie came without this page's CSRF token, or from another origin")

// CSRFToken derives the CSRF token of a session token. It is a hash with
// its own domain string, so it differs from the stored token hash and
// reveals nothing about the token.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("multimedia portal csrf v1\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SameOrigin reports whether the browser's own headers, when present, say
// the request comes from this origin. Requests without them (non-browser
// clients, same-origin GETs in some browsers) pass: the CSRF token is the
// check that always applies.
func SameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// SessionToken returns the session token of a page request: "" and nil when
// it carries no session cookie, ErrCSRF when it carries one without the
// proof (or from another origin).
func SessionToken(r *http.Request) (string, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	if !SameOrigin(r) {
		return "", ErrCSRF
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(CSRFToken(c.Value))) != 1 {
		return "", ErrCSRF
	}
	return c.Value, nil
}

// DeviceToken returns the device token this browser keeps, or "".
func DeviceToken(r *http.Request) string {
	if c, err := r.Cookie(DeviceCookie); err == nil {
		return c.Value
	}
	return ""
}

// SetSession writes the session and CSRF cookies (and the device cookie
// when deviceToken is not empty) and returns the CSRF token. secure is true
// when the page is served over TLS.
func SetSession(w http.ResponseWriter, token string, expires time.Time, deviceToken string, secure bool) string {
	csrf := CSRFToken(token)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: sessionPath, Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: expires,
		Secure: secure, SameSite: http.SameSiteStrictMode})
	if deviceToken != "" {
		http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: deviceToken, Path: devicePath,
			MaxAge: int(deviceTTL / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	}
	return csrf
}

// ClearSession removes the session and CSRF cookies; the device cookie
// stays, as the device stays known.
func ClearSession(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: sessionPath, MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}

// ClearDevice removes the device cookie. Only an erasure does: the device
// token belonged to the erased account, and a logout keeps it (it spares
// the owner's next login the delays).
func ClearDevice(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: "", Path: devicePath, MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
}
