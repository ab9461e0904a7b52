package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestRequestLogNamesNoClientIP: the request log names a client by a keyed
// tag, never by its IP. Its request_id is the correlation_id the events of
// the request keep in clear, so an IP in the log would tie the person to
// the account after the account's erasure, for as long as the log is kept.
// The same client gets the same tag; another client another.
func TestRequestLogNamesNoClientIP(t *testing.T) {
	e := newTestEnv(t)
	const ip, other = "198.51.100.231", "203.0.113.232"
	for _, from := range []string{ip, ip, other} {
		rec := doRequestFrom(t, e.server, from, "GET", "/api/me", "", nil)
		wantStatus(t, rec, http.StatusUnauthorized)
	}
	logs := e.logs.String()
	for _, addr := range []string{ip, other} {
		if strings.Contains(logs, addr) {
			t.Errorf("the log holds the client IP %s in clear", addr)
		}
	}
	tags := map[string]int{}
	for line := range strings.SplitSeq(logs, "\n") {
		if !strings.Contains(line, `"msg":"http request"`) {
			continue
		}
		_, after, ok := strings.Cut(line, `"client_tag":"`)
		if !ok {
			t.Fatalf("a request log line without client_tag: %s", line)
		}
		tag, _, _ := strings.Cut(after, `"`)
		tags[tag]++
	}
	if got, want := len(tags), 2; got != want {
		t.Fatalf("distinct client tags: got %d (%v), want %d", got, tags, want)
	}
	for tag, n := range tags {
		if len(tag) != 16 || (n != 1 && n != 2) {
			t.Errorf("client tag %q seen %d times: want 16 hex digits, once for one client and twice for the other", tag, n)
		}
	}
}
