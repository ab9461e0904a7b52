package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
)

const auditorToken = "auditor-token-for-tests-0123456789"

// newAuditEnv is newTestEnv with the commands writing through the audit
// chain, as cmd/multimedia wires them, and the audit service configured.
// It also returns the pool, for tampering with es_events, and the chained
// store.
func newAuditEnv(t *testing.T, token string) (*testEnv, *pgxpool.Pool, eventstore.Store) {
	t.Helper()
	var chained eventstore.Store
	e := newTestEnvOn(t, func(ctx context.Context, pool *pgxpool.Pool) eventstore.Store {
		raw := postgres.New(ctx, pool, postgres.Options{})
		t.Cleanup(raw.Close)
		chained = audit.NewChainedStore(raw)
		return chained
	}, func(c *Config) {
		c.AuditorToken = token
		c.Audit = audit.NewService(chained)
	})
	return e, e.pool, chained
}

type auditEventsBody struct {
	AccountID string               `json:"account_id"`
	Events    []audit.HistoryEvent `json:"events"`
	Next      *uint64              `json:"next"`
}

// TestAuditEndpoints drives an account through the HTTP API and audits it.
func TestAuditEndpoints(t *testing.T) {
	e, pool, store := newAuditEnv(t, auditorToken)
	s := e.server
	email := uniqueEmail("audit")
	register(t, e, email)
	code := e.codeFromMail(t, email, "verification code")
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/accounts/verify", "", map[string]any{"email": email, "code": code, "password": strongPassword}), http.StatusOK)
	sess := login(t, s, email, strongPassword)
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/sessions", "", map[string]any{"email": email, "password": "Wrong-Password-123"}), http.StatusUnauthorized)
	wantStatus(t, doRequest(t, s, http.MethodPut, "/api/me/newsletter", sess.Token, map[string]any{"subscribed": true}), http.StatusOK)
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/password-resets", "", map[string]any{"email": email}), http.StatusAccepted)
	resetCode := e.codeFromMail(t, email, "reset code")
	wantStatus(t, doRequest(t, s, http.MethodPost, "/api/password-resets/confirm", "", map[string]any{"email": email, "code": resetCode, "new_password": "Brand-New-Secret-77"}), http.StatusOK)
	id := sess.AccountID

	// The secrets to look for: every password and code hash stored.
	stored, err := store.ReadStream(ctxFor(t), account.StreamID(id), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, re := range stored {
		ev, err := account.Decode(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch v := ev.(type) {
		case account.AccountRegistered:
			secrets = append(secrets, v.PasswordHash)
		case account.PasswordResetCompleted:
			secrets = append(secrets, v.PasswordHash)
		case account.VerificationCodeIssued:
			secrets = append(secrets, v.CodeHash)
		}
	}
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets in %d events", len(secrets), len(stored))
	}
	secrets = append(secrets, "$argon2id$", code, resetCode, sess.Token, auditorToken)
	var bodies strings.Builder
	get := func(path string, want int) []byte {
		t.Helper()
		rec := doRequest(t, s, http.MethodGet, path, auditorToken, nil)
		wantStatus(t, rec, want)
		bodies.Write(rec.Body.Bytes())
		return rec.Body.Bytes()
	}

	// The whole history, in one page and in pages of 3, by id and by address.
	var all auditEventsBody
	if err := json.Unmarshal(get("/api/audit/accounts/"+id+"/events", http.StatusOK), &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Events) != len(stored) || all.Next != nil || all.AccountID != id {
		t.Fatalf("%d events, next %v; want %d", len(all.Events), all.Next, len(stored))
	}
	types := []string{}
	for i, ev := range all.Events {
		var md map[string]any
		_ = json.Unmarshal(ev.Metadata, &md)
		if ev.Version != uint64(i) || ev.Position != stored[i].Position || ev.Type != stored[i].Type ||
			md["client_ip"] != "192.0.2.10" || md["correlation_id"] == "" || md["actor"] == nil || len(md["hash"].(string)) != 64 {
			t.Fatalf("event %d: %+v %s", i, ev, ev.Metadata)
		}
		types = append(types, ev.Type)
	}
	for _, want := range []string{account.AccountRegisteredType, account.AccountVerifiedType, account.LoggedInType, account.LoginFailedType,
		account.NewsletterSubscribedType, account.PasswordResetCompletedType} {
		if !strings.Contains(strings.Join(types, ","), want) {
			t.Fatalf("history %v lacks %s", types, want)
		}
	}
	var paged []audit.HistoryEvent
	next := ""
	for pages := 0; ; pages++ {
		var p auditEventsBody
		if err := json.Unmarshal(get("/api/audit/accounts/by-email/events?limit=3&email="+url.QueryEscape(strings.ToUpper(email))+next, http.StatusOK), &p); err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p.Events...)
		if p.Next == nil {
			break
		}
		next = "&after_version=" + jsonNumber(*p.Next)
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	a, _ := json.Marshal(all.Events)
	b, _ := json.Marshal(paged)
	if !bytes.Equal(a, b) {
		t.Fatalf("paged history differs from the whole:\n%s\n%s", a, b)
	}

	// The state as of each event's time reflects that event.
	for i, ev := range all.Events {
		var st audit.State
		if err := json.Unmarshal(get("/api/audit/accounts/"+id+"/state?as_of="+url.QueryEscape(ev.OccurredAt.Format(time.RFC3339Nano)), http.StatusOK), &st); err != nil {
			t.Fatal(err)
		}
		// Events of one command share an instant: the state is after the last of them.
		last := i
		for last+1 < len(all.Events) && all.Events[last+1].OccurredAt.Equal(ev.OccurredAt) {
			last++
		}
		if st.Version == nil || *st.Version != uint64(last) || *st.Position != all.Events[last].Position {
			t.Fatalf("as of event %d: version %v position %v", i, st.Version, st.Position)
		}
	}
	var now audit.State
	_ = json.Unmarshal(get("/api/audit/accounts/by-email/state?email="+url.QueryEscape(email), http.StatusOK), &now)
	if !now.Verified || !now.Newsletter || now.Email != email || now.OpenSessions != 0 || now.FailedLogins != 0 || now.PasswordChangedAt == nil ||
		now.Status != audit.StatusVerified || *now.Version != uint64(len(stored)-1) {
		t.Fatalf("state now: %+v", now)
	}
	var before audit.State
	_ = json.Unmarshal(get("/api/audit/accounts/"+id+"/state?as_of=2000-01-01T00:00:00Z", http.StatusOK), &before)
	if before.Registered || before.Version != nil || before.Status != audit.StatusNotRegistered {
		t.Fatalf("state in 2000: %+v", before)
	}

	// Verify: intact, then edited in Postgres and named.
	var rep auditVerifyReply
	_ = json.Unmarshal(get("/api/audit/accounts/"+id+"/verify", http.StatusOK), &rep)
	if !rep.Intact || rep.FirstBreak != nil || rep.Events != int64(len(stored)) {
		t.Fatalf("verify: %+v", rep)
	}
	if _, err := pool.Exec(ctxFor(t), `UPDATE es_events SET data = jsonb_set(data, '{newsletter}', 'true') WHERE event_id = $1`, stored[0].ID); err != nil {
		t.Fatal(err)
	}
	rep = auditVerifyReply{}
	_ = json.Unmarshal(get("/api/audit/accounts/by-email/verify?email="+url.QueryEscape(email), http.StatusOK), &rep)
	if rep.Intact || rep.FirstBreak == nil || rep.FirstBreak.Version != 0 || rep.FirstBreak.Position != stored[0].Position ||
		rep.FirstBreak.EventID != stored[0].ID || !strings.Contains(rep.FirstBreak.Reason, "hash mismatch") {
		t.Fatalf("verify after tampering: %+v", rep)
	}
	if !strings.Contains(e.logs.String(), "audit chain broken") {
		t.Fatal("no log line for the broken chain")
	}

	// Nothing secret in any audit response or log line.
	out := bodies.String() + e.logs.String()
	for _, sec := range secrets {
		if strings.Contains(out, sec) {
			t.Fatalf("an audit response or log line holds a secret (%.12s…)", sec)
		}
	}
	if !strings.Contains(bodies.String(), `"password_hash":"[redacted]"`) || !strings.Contains(bodies.String(), `"code_hash":"[redacted]"`) {
		t.Fatal("hashes are not shown as [redacted]")
	}
}

func jsonNumber(v uint64) string { b, _ := json.Marshal(v); return string(b) }

func TestAuditAuth(t *testing.T) {
	e, _, _ := newAuditEnv(t, auditorToken)
	off := newTestServer(t) // no AUDITOR_TOKEN
	path := "/api/audit/accounts/0b6f3f1e-8c3c-4a53-9a51-2f6f1f7d0a11/events"
	for _, p := range []string{path, strings.Replace(path, "events", "state", 1), strings.Replace(path, "events", "verify", 1)} {
		rec := doRequest(t, off, http.MethodGet, p, auditorToken, nil)
		wantStatus(t, rec, http.StatusForbidden)
		if c := errorOf(t, rec).Code; c != "audit_disabled" {
			t.Fatalf("%s without a configured token: %s", p, c)
		}
		for _, tok := range []string{"", "wrong", auditorToken + "x", auditorToken[:10]} {
			rec := doRequest(t, e.server, http.MethodGet, p, tok, nil)
			wantStatus(t, rec, http.StatusUnauthorized)
			if rec.Header().Get("WWW-Authenticate") == "" || errorOf(t, rec).Code != "unauthenticated" {
				t.Fatalf("%s with token %q: %v", p, tok, rec.Header())
			}
		}
		// A doubled scheme is not the token.
		wantStatus(t, doRequest(t, e.server, http.MethodGet, p, "Bearer "+auditorToken, nil), http.StatusUnauthorized)
	}
	wantStatus(t, doRequest(t, e.server, http.MethodGet, path, auditorToken, nil), http.StatusNotFound)
}

func TestAuditBadInput(t *testing.T) {
	e, _, _ := newAuditEnv(t, auditorToken)
	id := "0b6f3f1e-8c3c-4a53-9a51-2f6f1f7d0a11"
	cases := []struct{ path, param string }{
		{"/api/audit/accounts/not-a-uuid/events", "id"},
		{"/api/audit/accounts/0b6f3f1e8c3c4a539a512f6f1f7d0a11/state", "id"},
		{"/api/audit/accounts/" + id + "/state?as_of=yesterday", "as_of"},
		{"/api/audit/accounts/" + id + "/state?as_of=2026-13-01T00:00:00Z", "as_of"},
		{"/api/audit/accounts/" + id + "/events?limit=0", "limit"},
		{"/api/audit/accounts/" + id + "/events?limit=1001", "limit"},
		{"/api/audit/accounts/" + id + "/events?limit=ten", "limit"},
		{"/api/audit/accounts/" + id + "/events?after_version=-1", "after_version"},
		{"/api/audit/accounts/" + id + "/events?email=a@example.com", "email"},
		{"/api/audit/accounts/by-email/events", "email"},
		{"/api/audit/accounts/by-email/verify?email=not-an-address", "email"},
	}
	for _, c := range cases {
		rec := doRequest(t, e.server, http.MethodGet, c.path, auditorToken, nil)
		wantStatus(t, rec, http.StatusBadRequest)
		body := errorOf(t, rec)
		if body.Details["parameter"] != c.param || !strings.Contains(body.Message, `"`+c.param+`"`) {
			t.Fatalf("%s: %+v; want parameter %q named", c.path, body, c.param)
		}
	}
	rec := doRequest(t, e.server, http.MethodGet, "/api/audit/accounts/by-email/state?email=nobody@example.com", auditorToken, nil)
	wantStatus(t, rec, http.StatusNotFound)
	if c := errorOf(t, rec).Code; c != "account_not_found" {
		t.Fatalf("unknown address: %s", c)
	}
}
