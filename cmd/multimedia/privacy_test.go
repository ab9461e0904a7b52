package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// callFrom is call from the client address ip, as a trusted proxy in front
// of the server reports it (X-Forwarded-For).
func callFrom(t *testing.T, ip, method, url, token string, body any) (int, map[string]any, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, raw
}

// TestPrivacyExportAndErase: a person exports their data and erases their
// account; afterwards nothing in the database dump names them, the chain
// verifies, the statistics keep their counts and the address registers
// again (issue 14).
func TestPrivacyExportAndErase(t *testing.T) {
	privacyExportAndErase(t, nil)
}

// TestPrivacyExportAndEraseOnEventStoreDB is the same with the events in
// the EventStoreDB test double: the keys stay in Postgres, and the events
// in the double hold neither the address nor the client IP in clear.
func TestPrivacyExportAndEraseOnEventStoreDB(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	email, ip := privacyExportAndErase(t, map[string]string{"EVENT_STORE": srv.URL()})
	store, err := esdb.Open(srv.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var all bytes.Buffer
	for after := eventstore.Start; ; {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			all.Write(e.Data)
			all.Write(e.Metadata)
			all.WriteString(e.StreamID)
			after = e.Position
		}
		if len(page) < 1000 {
			break
		}
	}
	if all.Len() == 0 {
		t.Fatal("the EventStoreDB double holds no events: serve did not write there")
	}
	for _, s := range []string{email, ip} {
		if bytes.Contains(all.Bytes(), []byte(s)) {
			t.Errorf("the EventStoreDB double's events hold %q in clear", s)
		}
	}
}

func privacyExportAndErase(t *testing.T, extra map[string]string) (email, ip string) {
	const adminToken = "admin-token-privacy-test-0123456789"
	const auditorToken = "auditor-token-privacy-test-0123456789"
	db := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": db, "ADMIN_TOKEN": adminToken, "AUDITOR_TOKEN": auditorToken,
		"TRUSTED_PROXIES": "127.0.0.1/32"}
	for k, v := range extra {
		env[k] = v
	}
	base, _ := startServe(t, env)
	pit := mailpit.Require(t)
	email = mailpit.UniqueAddress("erase-me", "example.com")
	ip = "198.51.100.173"
	const pw = "Tulip-Harbour-93!"

	// Register, verify, log in, subscribe, download twice: all from ip.
	if st, body, _ := callFrom(t, ip, "POST", base+"/api/accounts", "", map[string]any{"email": email, "password": pw, "newsletter": false}); st != http.StatusAccepted {
		t.Fatalf("register: %d %v", st, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, err := pit.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := callFrom(t, ip, "POST", base+"/api/accounts/verify", "", map[string]any{"email": email, "code": codeRe.FindString(msg.Text), "password": pw}); st != http.StatusOK {
		t.Fatalf("verify: %d %v", st, body)
	}
	if st, _, _ := callFrom(t, ip, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw + "x"}); st != http.StatusUnauthorized {
		t.Fatalf("wrong login: %d", st)
	}
	st, body, _ := callFrom(t, ip, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw})
	if st != http.StatusCreated {
		t.Fatalf("login: %d %v", st, body)
	}
	token, accountID := body["token"].(string), body["account_id"].(string)
	if st, body, _ := callFrom(t, ip, "PUT", base+"/api/me/newsletter", token, map[string]any{"subscribed": true}); st != http.StatusOK {
		t.Fatalf("newsletter: %d %v", st, body)
	}
	st, body, _ = callFrom(t, "192.0.2.1", "POST", base+"/api/admin/videos", adminToken, map[string]any{"title": "Briefing", "description": "About it",
		"duration_seconds": 90, "formats": []map[string]any{{"format": "mp4-1080p", "size_bytes": 1 << 30}, {"format": "webm-720p", "size_bytes": 1 << 28}}})
	if st != http.StatusCreated {
		t.Fatalf("publish video: %d %v", st, body)
	}
	videoID := body["video_id"].(string)
	var lastPos string
	for _, f := range []string{"mp4-1080p", "webm-720p"} {
		st, body, _ := callFrom(t, ip, "POST", base+"/api/videos/"+videoID+"/downloads", token, map[string]any{"format": f})
		if st != http.StatusCreated {
			t.Fatalf("download %s: %d %v", f, st, body)
		}
		lastPos = body["position"].(string)
	}

	// The export holds the address, every download and the logins with
	// their client IP.
	st, exp, raw := callFrom(t, ip, "GET", base+"/api/me/export", token, nil)
	if st != http.StatusOK {
		t.Fatalf("export: %d %s", st, raw)
	}
	if got, want := exp["email"], email; got != want {
		t.Fatalf("export email: got %v, want %v", got, want)
	}
	if got, want := len(exp["downloads"].([]any)), 2; got != want {
		t.Fatalf("export downloads: got %d, want %d", got, want)
	}
	for _, d := range exp["downloads"].([]any) {
		if got, want := d.(map[string]any)["client_ip"], ip; got != want {
			t.Fatalf("export download client_ip: got %v, want %v", got, want)
		}
	}
	logins := exp["logins"].([]any)
	if got, want := len(logins), 2; got != want {
		t.Fatalf("export logins (one failed, one not): got %d, want %d: %v", got, want, logins)
	}
	for _, l := range logins {
		if got, want := l.(map[string]any)["client_ip"], ip; got != want {
			t.Fatalf("export login client_ip: got %v, want %v", got, want)
		}
	}
	if got, want := len(exp["newsletter_history"].([]any)), 2; got != want {
		t.Fatalf("export newsletter history: got %d, want %d", got, want)
	}
	if bytes.Contains(raw, []byte("$argon2")) || !bytes.Contains(raw, []byte(`"password_hash":"[redacted]"`)) {
		t.Fatalf("export shows a password hash or none redacted: %.300s", raw)
	}

	stats := func(consistentWith string) float64 {
		t.Helper()
		q := url.Values{"from": {time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)}, "to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
			"interval": {"day"}, "consistent_with": {consistentWith}}
		st, body, raw := callFrom(t, "192.0.2.1", "GET", base+"/api/stats/downloads?"+q.Encode(), auditorToken, nil)
		if st != http.StatusOK {
			t.Fatalf("stats: %d %s", st, raw)
		}
		return body["total"].(float64)
	}
	before := stats(lastPos)
	if before != 2 {
		t.Fatalf("stats total before erasure: got %v, want 2", before)
	}
	countEvents := func() int {
		t.Helper()
		st, body, raw := callFrom(t, "192.0.2.1", "GET", base+"/api/audit/accounts/"+accountID+"/events?limit=1000", auditorToken, nil)
		if st != http.StatusOK {
			t.Fatalf("audit events: %d %s", st, raw)
		}
		return len(body["events"].([]any))
	}
	eventsBefore := countEvents()

	// A wrong password changes nothing but counting as a failed login.
	st, body, _ = callFrom(t, ip, "DELETE", base+"/api/me", token, map[string]any{"password": pw + "?"})
	if st != http.StatusForbidden {
		t.Fatalf("erase with a wrong password: got %d %v, want 403", st, body)
	}
	if got, want := countEvents(), eventsBefore+1; got != want {
		t.Fatalf("events after a refused erasure: got %d, want %d", got, want)
	}
	if st, _, _ := callFrom(t, ip, "GET", base+"/api/me/export", token, nil); st != http.StatusOK {
		t.Fatalf("session after a refused erasure: %d", st)
	}

	// The right one erases.
	st, body, raw = callFrom(t, ip, "DELETE", base+"/api/me", token, map[string]any{"password": pw})
	if st != http.StatusOK {
		t.Fatalf("erase: %d %s", st, raw)
	}
	erasedAt := body["position"].(string)
	if st, _, _ := callFrom(t, ip, "GET", base+"/api/me", token, nil); st != http.StatusUnauthorized {
		t.Fatalf("the session after erasure: got %d, want 401", st)
	}
	if st, _, _ := callFrom(t, ip, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw}); st != http.StatusUnauthorized {
		t.Fatalf("the password after erasure: got %d, want 401", st)
	}
	if got := stats(erasedAt); got != before {
		t.Fatalf("stats total after erasure: got %v, want %v", got, before)
	}
	st, body, raw = callFrom(t, "192.0.2.1", "GET", base+"/api/audit/accounts/"+accountID+"/verify", auditorToken, nil)
	if st != http.StatusOK || body["intact"] != true {
		t.Fatalf("chain after erasure: %d %s", st, raw)
	}
	st, _, raw = callFrom(t, "192.0.2.1", "GET", base+"/api/audit/accounts/"+accountID+"/events?limit=1000", auditorToken, nil)
	if st != http.StatusOK || !bytes.Contains(raw, []byte(`"email":"[erased]"`)) || !bytes.Contains(raw, []byte(`"client_ip":"[erased]"`)) ||
		bytes.Contains(raw, []byte(email)) || bytes.Contains(raw, []byte(ip)) || !bytes.Contains(raw, []byte("AccountErased.v1")) {
		t.Fatalf("audit history after erasure: %d %.600s", st, raw)
	}
	st, body, raw = callFrom(t, "192.0.2.1", "GET", base+"/api/audit/accounts/"+accountID+"/state?as_of="+time.Now().UTC().Format(time.RFC3339Nano), auditorToken, nil)
	if st != http.StatusOK || body["email"] != "[erased]" || body["status"] != "erased" || body["downloads"] != float64(2) {
		t.Fatalf("audit state after erasure: %d %s", st, raw)
	}

	// The whole database: neither the address nor the client IP.
	out, err := exec.Command("pg_dump", "--data-only", db).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	for _, s := range []string{email, ip, strings.ToLower(email)} {
		if i := bytes.Index(out, []byte(s)); i >= 0 {
			t.Fatalf("pg_dump --data-only holds %q: …%s…", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}

	// The address registers again, as a new account (its earlier mails
	// out of the way, so that the new code is the one read).
	old, err := pit.SearchAll(ctx, "to:"+email)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		if err := pit.Delete(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if st, body, _ := callFrom(t, ip, "POST", base+"/api/accounts", "", map[string]any{"email": email, "password": pw, "newsletter": false}); st != http.StatusAccepted {
		t.Fatalf("register again: %d %v", st, body)
	}
	msg, err = pit.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := callFrom(t, ip, "POST", base+"/api/accounts/verify", "", map[string]any{"email": email, "code": codeRe.FindString(msg.Text), "password": pw}); st != http.StatusOK {
		t.Fatalf("verify again: %d %v", st, body)
	}
	st, body, _ = callFrom(t, ip, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw})
	if st != http.StatusCreated || body["account_id"] == accountID {
		t.Fatalf("login to the new account: %d %v (old account %s)", st, body, accountID)
	}
	return email, ip
}
