package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// startServe runs `multimedia serve` in-process, as the binary would, on a
// fresh database, and returns its base URL. The server stops when the test
// ends; stop ends it earlier and returns serve's error.
func startServe(t *testing.T, env map[string]string) (base string, stop func() error) {
	t.Helper()
	base, _, stop = startServeOps(t, env)
	return base, stop
}

// startServeOps is startServe that also returns the base URL of the
// operator listener (METRICS_ADDR), on its own 127.0.0.1 port.
func startServeOps(t *testing.T, env map[string]string) (base, ops string, stop func() error) {
	t.Helper()
	mailpit.Require(t)
	vars := map[string]string{
		"DATABASE_URL":        pgtest.NewDatabase(t),
		"SMTP_ADDR":           mailpit.SMTPAddrFromEnv(),
		"RATE_LIMIT":          "off",
		"LOG_FORMAT":          "json",
		"CONSISTENCY_TIMEOUT": "5s",
		"SHUTDOWN_TIMEOUT":    "5s",
	}
	for k, v := range env {
		vars[k] = v
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The binary's own life cycle: NewMain, ParseFlags, Run, then Close
	// (what a SIGTERM leads to).
	m := NewMain(io.Discard, io.Discard, func(k string) string { return vars[k] })
	m.Listener, m.MetricsListener = ln, opsLn
	ctx := context.Background()
	if err := m.ParseFlags(ctx, []string{"serve"}); err != nil {
		t.Fatalf("config: %v", err)
	}
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		t.Fatalf("serve: %v", err)
	}
	base, ops = "http://"+ln.Addr().String(), "http://"+opsLn.Addr().String()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			closed := make(chan error, 1)
			go func() { closed <- m.Close() }()
			select {
			case result = <-closed:
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not stop within 20 s of Close")
			}
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return base, ops, stop
}

func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// TestServeEndToEnd runs the real wiring: register, verify with the mailed
// code, log in, and read the profile from the accounts read model right
// after each write (consistent_with); then a graceful stop.
func TestServeEndToEnd(t *testing.T) {
	serveEndToEnd(t, nil)
}

// TestServeEndToEndOnEventStoreDB is the same with EVENT_STORE naming the
// in-process EventStoreDB test double: the wiring of `serve` for esdb://.
func TestServeEndToEndOnEventStoreDB(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	serveEndToEnd(t, map[string]string{"EVENT_STORE": srv.URL()})
	store, err := esdb.Open(srv.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	events, err := store.ReadAll(context.Background(), eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if !slices.Contains(types, account.LoggedInType) {
		t.Errorf("the EventStoreDB double holds %v, no %s: serve did not write there", types, account.LoggedInType)
	}
	// serve's appends reach the node only with NoStream or an exact
	// revision, which it checks against the stream itself; Any and
	// StreamExists re-appends are best effort on a real node (issue 18).
	if c := srv.AppendConditions(); c["any"]+c["stream_exists"] != 0 || c["no_stream"]+c["revision"] == 0 {
		t.Errorf("appends received by condition %v: want only no_stream and revision", c)
	}
}

func serveEndToEnd(t *testing.T, env map[string]string) {
	t.Helper()
	base, ops, stop := startServeOps(t, env)
	pit := mailpit.Require(t)
	email := mailpit.UniqueAddress("serve", "example.com")
	pw := "Tulip-Harbour-93"

	st, _ := call(t, "POST", base+"/api/accounts", "", map[string]any{"email": email, "password": pw, "newsletter": false})
	if st != http.StatusAccepted {
		t.Fatalf("register: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := pit.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	code := codeRe.FindString(msg.Text)
	st, body := call(t, "POST", base+"/api/accounts/verify", "", map[string]any{"email": email, "code": code, "password": pw})
	if st != http.StatusOK {
		t.Fatalf("verify: %d %v", st, body)
	}
	st, body = call(t, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw})
	if st != http.StatusCreated {
		t.Fatalf("login: %d %v", st, body)
	}
	token, pos := body["token"].(string), body["position"].(string)
	st, me := call(t, "GET", base+"/api/me?consistent_with="+pos, token, nil)
	if st != http.StatusOK {
		t.Fatalf("me: %d %v", st, me)
	}
	if me["email"] != email || me["status"] != "verified" || me["last_login_at"] == nil {
		t.Fatalf("profile right after login: %v", me)
	}
	st, body = call(t, "PUT", base+"/api/me/newsletter", token, map[string]any{"subscribed": true})
	if st != http.StatusOK {
		t.Fatalf("newsletter: %d %v", st, body)
	}
	st, me = call(t, "GET", base+"/api/me?consistent_with="+body["position"].(string), token, nil)
	if st != http.StatusOK || me["newsletter"] != true {
		t.Fatalf("profile right after subscribing: %d %v", st, me)
	}
	st, body = call(t, "GET", base+"/api/me?consistent_with=not-a-position", token, nil)
	if st != http.StatusBadRequest {
		t.Fatalf("bad consistent_with: %d %v", st, body)
	}
	st, body = call(t, "GET", base+"/readyz", "", nil)
	if st != http.StatusOK || len(body) != 1 || body["status"] != "ready" {
		t.Fatalf("public readyz: %d %v, want 200 {status: ready} only", st, body)
	}
	// Operator data is on the operator listener only.
	if st, _ = call(t, "GET", base+"/metrics", "", nil); st != http.StatusNotFound {
		t.Fatalf("public /metrics: %d, want 404", st)
	}
	st, body = call(t, "GET", ops+"/readyz", "", nil)
	if checks, _ := body["checks"].(map[string]any); st != http.StatusOK || checks["database"] != "ok" {
		t.Fatalf("operator readyz: %d %v", st, body)
	}
	// ... with each projection's lag and the horizon hold (none here).
	if projs, _ := body["projections"].([]any); len(projs) == 0 || body["horizon"] != nil {
		t.Fatalf("operator readyz detail: projections %v, horizon %v", body["projections"], body["horizon"])
	}
	if p, _ := body["projections"].([]any)[0].(map[string]any); p["lag_events"] == nil {
		t.Fatalf("operator readyz: no lag in %v", p)
	}
	resp, err := http.Get(ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(metrics, []byte("multimedia_projection_position")) ||
		!bytes.Contains(metrics, []byte("multimedia_event_store_horizon_held_seconds")) {
		t.Fatalf("operator /metrics: %d\n%.300s", resp.StatusCode, metrics)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve ended with %v after SIGTERM-like cancel", err)
	}
}

// TestServeWithoutProjectorsAnswers503: with PROJECTORS=off and no
// `multimedia project` running, a consistent read cannot be served in time.
func TestServeWithoutProjectorsAnswers503(t *testing.T) {
	base, _ := startServe(t, map[string]string{"PROJECTORS": "off", "CONSISTENCY_TIMEOUT": "300ms"})
	pit := mailpit.Require(t)
	email := mailpit.UniqueAddress("noproj", "example.com")
	pw := "Tulip-Harbour-93"
	call(t, "POST", base+"/api/accounts", "", map[string]any{"email": email, "password": pw})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := pit.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
	if st, body := call(t, "POST", base+"/api/accounts/verify", "", map[string]any{"email": email, "code": code, "password": pw}); st != http.StatusOK {
		t.Fatalf("verify: %d %v", st, body)
	}
	st, body := call(t, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw})
	if st != http.StatusCreated {
		t.Fatalf("login: %d %v", st, body)
	}
	st, body = call(t, "GET", base+"/api/me?consistent_with="+body["position"].(string), body["token"].(string), nil)
	if st != http.StatusServiceUnavailable {
		t.Fatalf("consistent read without projectors: %d %v, want 503", st, body)
	}
	if e, _ := body["error"].(map[string]any); e == nil || !strings.Contains(e["message"].(string), "has not reached this write") {
		t.Fatalf("503 body does not say why: %v", body)
	}
}

func TestBadConfigurationListsEveryProblem(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"HTTP_ADDR": "nope", "METRICS_ADDR": "9090", "RATE_LIMIT": "lots", "SECRET_KEY": "short", "PROJECTORS": "maybe", "CODE_TTL": "soon",
		"DATABASE_URL": "mysql://root@localhost/db", "EVENT_STORE": "kafka://x", "TRUSTED_PROXIES": "10.0.0.0/33", "LOG_FORMAT": "xml"}
	code := Run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	for _, want := range []string{"HTTP_ADDR", "METRICS_ADDR", "RATE_LIMIT", "SECRET_KEY", "PROJECTORS", "CODE_TTL", "DATABASE_URL", "EVENT_STORE", "TRUSTED_PROXIES", "LOG_FORMAT"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not name %s:\n%s", want, stderr.String())
		}
	}
}

// TestUnreachableDatabaseIsNamed: a well-formed DATABASE_URL that does not
// answer fails serve with a message naming the database, not a hang.
func TestUnreachableDatabaseIsNamed(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere?connect_timeout=2", "LOG_FORMAT": "text"}
	code := Run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "connect to the database at nobody@127.0.0.1:1/nowhere") {
		t.Fatalf("stderr does not name the database: %s", stderr.String())
	}
}
