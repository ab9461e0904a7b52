package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// The store written by main as of e7452e4 (before issue 14), through the
// real commands: alice and bob verified, carol not, addresses and client
// IPs in clear, unkeyed claim streams (commands/testdata, issue 12).
const (
	legacyFixture = "../../commands/testdata/legacy-store.jsonl"
	legacySecret  = "legacy-fixture-secret-of-32bytes"
	legacyPW      = "legacy-fixture-Passw0rd!"
	legacyIP      = "192.0.2.1"
)

// importLegacy loads the fixture into a fresh database and returns its URL.
func importLegacy(t *testing.T) string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	pool := pgtest.Connect(t, url, true)
	pg := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(pg.Close)
	f, err := os.Open(legacyFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := audit.Import(context.Background(), audit.NewChainedStore(pg), f, audit.ImportOptions{TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	return url
}

// allBytes is every stream name, payload and metadata of a database's log,
// read from its table (reads through the store stop below the horizon of
// transactions in flight anywhere on the shared server).
func allBytes(t *testing.T, url string) ([]byte, int) {
	t.Helper()
	pool := pgtest.Connect(t, url, false)
	defer pool.Close()
	rows, err := pool.Query(context.Background(), `SELECT stream_id, data::text, metadata::text FROM es_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all bytes.Buffer
	n := 0
	for rows.Next() {
		var stream, data, md string
		if err := rows.Scan(&stream, &data, &md); err != nil {
			t.Fatal(err)
		}
		n++
		all.WriteString(stream + data + md)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all.Bytes(), n
}

// TestLegacyStoreWorksAndMigrates: a store written by the previous main
// serves as it is (accounts are found through their unkeyed claim
// streams; an erasure releases the legacy claim and the address registers
// again, under a keyed one); then `multimedia privacy migrate` copies it
// into a fresh database where no address or client IP is in clear, the
// erased account's fields read "[erased]", every chain verifies, and the
// accounts still log in and export their data.
func TestLegacyStoreWorksAndMigrates(t *testing.T) {
	src := importLegacy(t)
	base, stop := startServe(t, map[string]string{"DATABASE_URL": src, "SECRET_KEY": legacySecret})

	// The lookup fallback: alice logs in through her legacy claim.
	st, body := call(t, "POST", base+"/api/sessions", "", map[string]any{"email": "alice@example.com", "password": legacyPW})
	if st != http.StatusCreated {
		t.Fatalf("alice's login on the legacy store: %d %v", st, body)
	}
	aliceToken, aliceID := body["token"].(string), body["account_id"].(string)
	if st, body := call(t, "GET", base+"/api/me/export", aliceToken, nil); st != http.StatusOK || body["email"] != "alice@example.com" || len(body["downloads"].([]any)) == 0 {
		t.Fatalf("alice's export: %d %v", st, body)
	}
	if st, body := call(t, "DELETE", base+"/api/me", aliceToken, map[string]any{"password": legacyPW}); st != http.StatusOK {
		t.Fatalf("alice's erasure: %d %v", st, body)
	}
	if st, _ := call(t, "POST", base+"/api/sessions", "", map[string]any{"email": "alice@example.com", "password": legacyPW}); st != http.StatusUnauthorized {
		t.Fatalf("alice's login after erasure: %d, want 401", st)
	}
	if st, body := call(t, "POST", base+"/api/accounts", "", map[string]any{"email": "alice@example.com", "password": legacyPW, "newsletter": false}); st != http.StatusAccepted {
		t.Fatalf("alice registers again: %d %v", st, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	srcBytes, srcEvents := allBytes(t, src)
	if !bytes.Contains(srcBytes, []byte("bob@example.com")) {
		t.Fatal("the fixture lost bob's address in clear: it no longer is a store of the previous main")
	}

	// Migrate into a fresh database.
	dst := pgtest.NewDatabase(t)
	code, out, errOut := runCLI(t, map[string]string{"DATABASE_URL": src, "SECRET_KEY": legacySecret, "LOG_FORMAT": "json"},
		"privacy", "migrate", "--to", dst)
	if code != 0 || !strings.Contains(out, "privacy migrate: copied") {
		t.Fatalf("privacy migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	dstBytes, dstEvents := allBytes(t, dst)
	if got, want := dstEvents, srcEvents; got != want {
		t.Fatalf("events copied: got %d, want %d", got, want)
	}
	codes, err := account.NewCodeHasher([]byte(legacySecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		email, _ := account.NormaliseEmail(addr)
		for _, s := range []string{addr, email.LegacyStreamID()} {
			if bytes.Contains(dstBytes, []byte(s)) {
				t.Errorf("the migrated log holds %q", s)
			}
		}
		if !bytes.Contains(dstBytes, []byte(codes.ClaimStreamID(email))) {
			t.Errorf("the migrated log has no keyed claim stream for %s", addr)
		}
	}
	if bytes.Contains(dstBytes, []byte(legacyIP)) {
		t.Errorf("the migrated log holds the client IP %s in clear", legacyIP)
	}
	env := map[string]string{"DATABASE_URL": dst, "SECRET_KEY": legacySecret, "LOG_FORMAT": "json"}
	if code, out, errOut := runCLI(t, env, "audit", "verify"); code != 0 {
		t.Fatalf("audit verify of the copy: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, env, "audit", "history", "--account", aliceID, "--format", "json"); code != 0 ||
		!strings.Contains(out, `"email": "[erased]"`) || strings.Contains(out, legacyIP) {
		t.Fatalf("the erased account's history in the copy: exit %d\n%.800s", code, out)
	}

	// The copy serves: bob logs in and his export holds his address and
	// the client IP of his downloads' logins.
	base, _ = startServe(t, env)
	st, body = call(t, "POST", base+"/api/sessions", "", map[string]any{"email": "bob@example.com", "password": legacyPW})
	if st != http.StatusCreated {
		t.Fatalf("bob's login on the copy: %d %v", st, body)
	}
	st, body = call(t, "GET", base+"/api/me/export", body["token"].(string), nil)
	if st != http.StatusOK || body["email"] != "bob@example.com" {
		t.Fatalf("bob's export on the copy: %d %v", st, body)
	}
	if code, out, _ := runCLI(t, env, "privacy", "migrate", "--to", dst); code == 0 {
		t.Fatalf("a second migration into a store that is not empty succeeded: %s", out)
	}
}
