package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/mail/mailpit"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
	"github.com/multimedia-portal/multimedia/projections/content"
)

// runCLI runs the binary's Run in-process with env as its environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = Run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// seedAccount registers, verifies and logs in an account over HTTP, with a
// failed login, and returns its id and session token.
func seedAccount(t *testing.T, base, email, pw string) (id, token string) {
	t.Helper()
	pit := mailpit.Require(t)
	if st, _ := call(t, "POST", base+"/api/accounts", "", map[string]any{"email": email, "password": pw, "newsletter": true}); st != http.StatusAccepted {
		t.Fatalf("register: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := pit.WaitForMessage(ctx, email, "verification code")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := call(t, "POST", base+"/api/accounts/verify", "", map[string]any{"email": email, "code": codeRe.FindString(msg.Text), "password": pw}); st != http.StatusOK {
		t.Fatalf("verify: %d %v", st, body)
	}
	if st, _ := call(t, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw + "x"}); st != http.StatusUnauthorized {
		t.Fatalf("wrong login: %d", st)
	}
	st, body := call(t, "POST", base+"/api/sessions", "", map[string]any{"email": email, "password": pw})
	if st != http.StatusCreated {
		t.Fatalf("login: %d %v", st, body)
	}
	return body["account_id"].(string), body["token"].(string)
}

// seedContent publishes two videos and an article as an editor, and has
// each session download: content for the articles, videos and
// download_stats read models.
func seedContent(t *testing.T, base, adminToken string, sessions ...string) {
	t.Helper()
	st, body := call(t, "POST", base+"/api/admin/articles", adminToken, map[string]any{"title": "Exercise report", "summary": "What happened",
		"body": "All of it.", "tags": []string{"news"}})
	if st != http.StatusCreated {
		t.Fatalf("publish article: %d %v", st, body)
	}
	var videos []string
	for _, title := range []string{"Briefing", "Parade"} {
		st, body := call(t, "POST", base+"/api/admin/videos", adminToken, map[string]any{"title": title, "description": "About " + title,
			"duration_seconds": 90, "formats": []map[string]any{{"format": "mp4-1080p", "size_bytes": 1 << 30}, {"format": "webm-720p", "size_bytes": 1 << 28}}})
		if st != http.StatusCreated {
			t.Fatalf("publish video: %d %v", st, body)
		}
		videos = append(videos, body["video_id"].(string))
	}
	for i, token := range sessions {
		for j, v := range videos[:1+i%len(videos)] {
			format := []string{"mp4-1080p", "webm-720p"}[(i+j)%2]
			if st, body := call(t, "POST", base+"/api/videos/"+v+"/downloads", token, map[string]any{"format": format}); st != http.StatusCreated {
				t.Fatalf("download %s %s: %d %v", v, format, st, body)
			}
		}
	}
}

// logReady waits until ReadAll sees every event stored so far.
func logReady(t *testing.T, pool *pgxpool.Pool) *postgres.Store {
	t.Helper()
	store := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(store.Close)
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM es_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := store.ReadAll(context.Background(), eventstore.Start, n+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) >= n {
			return store
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events readable", len(page), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rebuiltContent rebuilds the articles, videos and download_stats read
// models from the log and returns every row of each of their tables, as
// JSON in a fixed order, by table.
func rebuiltContent(t *testing.T, pool *pgxpool.Pool, store eventstore.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, p := range []projections.Projection{content.NewArticles(), content.NewVideos(), content.NewDownloadStats()} {
		if _, err := projections.Rebuild(ctx, projections.RebuildOptions{Pool: pool, Store: store, Projection: p}); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
		for _, table := range p.Tables() {
			var rows string
			err := pool.QueryRow(ctx, "SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY to_jsonb(r)::text), '[]')::text FROM "+table+" r").Scan(&rows)
			if err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			out[table] = rows
		}
	}
	return out
}

func rebuiltAccounts(t *testing.T, pool *pgxpool.Pool, store eventstore.Store) []accounts.Account {
	t.Helper()
	if _, err := projections.Rebuild(context.Background(), projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New()}); err != nil {
		t.Fatal(err)
	}
	rows, err := accounts.NewReader(pool).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestAuditCommands seeds accounts through the real server, then runs every
// audit verb: history in each format, verify, export, import into a fresh
// database (same read model, clean verify), refusal of a second import,
// and verify naming an event edited in Postgres.
func TestAuditCommands(t *testing.T) {
	const token = "auditor-token-cli-test-0123456789"
	const adminToken = "admin-token-cli-test-0123456789"
	src := pgtest.NewDatabase(t)
	base, stop := startServe(t, map[string]string{"DATABASE_URL": src, "AUDITOR_TOKEN": token, "ADMIN_TOKEN": adminToken})
	email := mailpit.UniqueAddress("cli-audit", "example.com")
	id, sess := seedAccount(t, base, email, "Tulip-Harbour-93")
	_, sess2 := seedAccount(t, base, mailpit.UniqueAddress("cli-audit2", "example.com"), "Tulip-Harbour-94")
	seedContent(t, base, adminToken, sess, sess2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	srcPool := pgtest.Connect(t, src, false)
	srcStore := logReady(t, srcPool)
	env := map[string]string{"DATABASE_URL": src, "LOG_FORMAT": "json"}

	// Secrets to look for in every output.
	stored, err := srcStore.ReadStream(context.Background(), account.StreamID(id), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The account's downloads are in its download streams: the history
	// lists them too.
	downloads := 0
	for _, stream := range download.StreamIDs(id, time.Now().AddDate(0, -1, 0), time.Now()) {
		recs, err := srcStore.ReadStream(context.Background(), stream, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		downloads += len(recs)
	}
	if downloads == 0 {
		t.Fatal("the seeded account made no download")
	}
	secrets := []string{"$argon2id$", token, adminToken, sess, sess2}
	for _, re := range stored {
		var d map[string]any
		_ = json.Unmarshal(re.Data, &d)
		if h, ok := d["code_hash"].(string); ok {
			secrets = append(secrets, h)
		}
	}
	noSecrets := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Fatalf("%s holds a secret (%.12s…)", what, sec)
			}
		}
	}

	code, out, errOut := runCLI(t, env, "audit", "history", "--email", strings.ToUpper(email))
	if code != 0 || !strings.Contains(out, account.AccountRegisteredType) || !strings.Contains(out, account.LoginFailedType) ||
		!strings.Contains(out, `"password_hash":"[redacted]"`) || !strings.Contains(out, "reflects version") {
		t.Fatalf("history table: exit %d\n%s\n%s", code, out, errOut)
	}
	noSecrets("history table", out+errOut)
	t.Logf("history:\n%s", out)

	code, out, errOut = runCLI(t, env, "audit", "history", "--account", id, "--format", "json")
	var doc historyDoc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Events) != len(stored)+downloads || !doc.State.Verified || doc.State.FailedLogins != 0 ||
		doc.State.OpenSessions != 1 || *doc.State.Version != uint64(len(stored)-1) || doc.State.Downloads != downloads {
		t.Fatalf("history json: exit %d %+v\n%s", code, doc.State, errOut)
	}
	noSecrets("history json", out+errOut)

	// As of the failed login: the state right after it.
	var failedAt time.Time
	var failedVersion uint64
	for _, e := range doc.Events {
		if e.Type == account.LoginFailedType {
			failedAt, failedVersion = e.OccurredAt, e.Version
		}
	}
	code, out, errOut = runCLI(t, env, "audit", "history", "--email", email, "--as-of", failedAt.Format(time.RFC3339Nano), "--format", "json")
	doc = historyDoc{}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || *doc.State.Version != failedVersion || doc.State.FailedLogins != 1 ||
		doc.State.OpenSessions != 0 || len(doc.Events) != int(failedVersion)+1 {
		t.Fatalf("history as of %s: exit %d %+v\n%s", failedAt, code, doc.State, errOut)
	}
	code, out, _ = runCLI(t, env, "audit", "history", "--email", email, "--format", "jsonl")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != len(stored)+downloads {
		t.Fatalf("history jsonl: exit %d, %d lines", code, len(lines))
	}

	code, out, errOut = runCLI(t, env, "audit", "verify")
	if code != 0 || !strings.HasPrefix(out, "ok: the whole log is intact") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}

	// Export, import into a fresh database.
	dir := t.TempDir()
	file := filepath.Join(dir, "log.jsonl")
	code, _, errOut = runCLI(t, env, "audit", "export", "--output", file)
	if code != 0 || !strings.Contains(errOut, "exported ") {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	dst := pgtest.NewDatabase(t)
	dstEnv := map[string]string{"DATABASE_URL": dst, "LOG_FORMAT": "json"}
	code, _, errOut = runCLI(t, dstEnv, "audit", "import", "--input", file, "--batch", "3")
	if code != 0 || !strings.Contains(errOut, "imported ") {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	dstPool := pgtest.Connect(t, dst, false)
	dstStore := logReady(t, dstPool)
	if code, out, errOut = runCLI(t, dstEnv, "audit", "verify"); code != 0 {
		t.Fatalf("verify after import: exit %d\n%s\n%s", code, out, errOut)
	}
	if a, b := rebuiltAccounts(t, srcPool, audit.NewChainedStore(srcStore)), rebuiltAccounts(t, dstPool, dstStore); len(a) != 2 || !reflect.DeepEqual(a, b) {
		t.Fatalf("read models differ:\n%+v\n%+v", a, b)
	}
	// The content read models too; every table must have rows, or the
	// comparison proves nothing.
	wantTables, gotTables := rebuiltContent(t, srcPool, audit.NewChainedStore(srcStore)), rebuiltContent(t, dstPool, dstStore)
	if got, want := len(gotTables), 5; got != want {
		t.Fatalf("%d content tables, want %d: %v", got, want, gotTables)
	}
	for table, want := range wantTables {
		if want == "[]" {
			t.Errorf("%s: no rows in the source", table)
		}
		if got := gotTables[table]; got != want {
			t.Errorf("%s differs after import:\n got  %s\n want %s", table, got, want)
		}
	}
	code, _, errOut = runCLI(t, dstEnv, "audit", "import", "--input", file)
	if code != 1 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("second import: exit %d\n%s", code, errOut)
	}
	data, _ := os.ReadFile(file)
	if !bytes.Contains(data, []byte("$argon2id$")) {
		t.Fatal("the export lost the password hashes a restore needs")
	}

	// Tamper with the source and verify again.
	victim := stored[2]
	if _, err := srcPool.Exec(context.Background(), `UPDATE es_events SET data = jsonb_set(data, '{at}', '"2020-01-01T00:00:00Z"') WHERE event_id = $1`, victim.ID); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"audit", "verify"}, {"audit", "verify", "--stream", account.StreamID(id)}} {
		code, out, errOut = runCLI(t, env, args...)
		want := "stream " + victim.StreamID + " version 2 position " + victim.Position.String()
		if code != 1 || !strings.Contains(out, want) || !strings.Contains(errOut, want) || !strings.Contains(out, "hash mismatch") {
			t.Fatalf("%v after tampering: exit %d, want %q\n%s\n%s", args, code, want, out, errOut)
		}
		noSecrets("verify", out+errOut)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable", "LOG_FORMAT": "json"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"audit"}, "usage: multimedia audit history"},
		{[]string{"audit", "nope"}, `unknown verb "nope"`},
		{[]string{"audit", "history"}, "exactly one of --email and --account"},
		{[]string{"audit", "history", "--email", "a@example.com", "--as-of", "yesterday"}, `--as-of "yesterday"`},
		{[]string{"audit", "history", "--email", "a@example.com", "--format", "xml"}, `--format "xml"`},
		{[]string{"audit", "export", "--from", "12"}, "--from"},
		{[]string{"audit", "import", "--batch", "0"}, "--batch 0"},
		{[]string{"audit", "verify", "--format", "yaml"}, `--format "yaml"`},
		{[]string{"audit", "verify", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, env, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
