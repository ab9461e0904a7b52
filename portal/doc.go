// Package portal is the people's web page: the seed's account page
// ("NATO MULTIMEDIA ACCOUNT") as a web client of the HTTP API. It serves
// one app shell for the page paths (/, /register, /verify, /login,
// /reset-password, /videos, /articles/<slug>), its embedded assets under
// /assets/ (plain HTML, CSS and small ES modules; nothing from elsewhere),
// a friendly 404 page for unknown page paths, and the cookie rules of the
// page's session (session.go): an HttpOnly, SameSite=Strict session cookie
// that authenticates only requests carrying the CSRF token derived from it.
//
// The page talks to the API only through fetch; the API's JSON stays the
// one contract. httpapi registers these routes and asks this package for
// the session token of a page request.
//
// It may import the standard library and gorilla/mux only.
package portal
