package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

// projTestBinary builds the real binary once per test.
func projTestBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "multimedia")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// projTestInsert appends n more accounts of six events each (see
// pgtest.InsertAccounts).
func projTestInsert(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	var start int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM es_events").Scan(&start); err != nil {
		t.Fatal(err)
	}
	pgtest.InsertAccounts(t, pool, start+1, n)
}

type projTestProc struct {
	cmd *exec.Cmd
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func projTestStart(t *testing.T, bin, url string) *projTestProc {
	t.Helper()
	p := &projTestProc{cmd: exec.Command(bin, "project"), out: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "LOG_FORMAT=json", "LOG_LEVEL=info")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *projTestProc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// owns reports whether the process's latest log line about the accounts
// projection's lock says it holds it now. Each projection has its own lock,
// so two processes may split the others between them, and a process may
// own, release and own again.
func (p *projTestProc) owns() bool {
	owns := false
	for _, line := range strings.Split(p.out.String(), "\n") {
		var rec struct{ Msg, Projection string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Projection != accounts.Name {
			continue
		}
		switch rec.Msg {
		case "projection owned by this process":
			owns = true
		case "projection released":
			owns = false
		}
	}
	return owns
}

type projTestEnv struct {
	url    string
	pool   *pgxpool.Pool
	store  *postgres.Store
	waiter *projections.Waiter
}

func newProjTestEnv(t *testing.T) *projTestEnv {
	url := pgtest.NewDatabase(t)
	pool := pgtest.Connect(t, url, true)
	store := postgres.New(context.Background(), pool, postgres.Options{})
	t.Cleanup(store.Close)
	w := projections.NewWaiter(context.Background(), pool, nil)
	t.Cleanup(w.Close)
	return &projTestEnv{url: url, pool: pool, store: store, waiter: w}
}

// head is the last event stored, committed or not yet below the store's
// horizon (Store.Head would leave out events behind a running transaction).
func (e *projTestEnv) head(t *testing.T) eventstore.Position {
	t.Helper()
	var (
		tx  string
		seq uint64
	)
	if err := e.pool.QueryRow(context.Background(),
		"SELECT transaction_id::text, seq FROM es_events ORDER BY transaction_id DESC, seq DESC LIMIT 1").Scan(&tx, &seq); err != nil {
		t.Fatal(err)
	}
	c, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.Position{Commit: c, Prepare: seq}
}

func (e *projTestEnv) checkpoint(t *testing.T) (eventstore.Position, int64) {
	t.Helper()
	sts, err := projections.Statuses(context.Background(), e.pool, e.store, []projections.Projection{accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	return sts[0].Position, sts[0].AppliedEvents
}

// verify checks that every handled event was applied exactly once and that
// the live rows equal a clean rebuild.
func (e *projTestEnv) verify(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var handled int64
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM es_events WHERE type = ANY($1)", accounts.New().EventTypes()).Scan(&handled); err != nil {
		t.Fatal(err)
	}
	_, applied := e.checkpoint(t)
	if applied != handled {
		t.Errorf("applied %d events, the log has %d handled ones: some were applied twice or skipped", applied, handled)
	}
	reader := accounts.NewReader(e.pool)
	live, err := reader.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := projections.Rebuild(ctx, projections.RebuildOptions{Pool: e.pool, Store: e.store, Projection: accounts.New()}); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := reader.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("live (%d rows) differs from a clean rebuild (%d rows)", len(live), len(rebuilt))
	}
}

// advisoryLocksHeld counts the granted locks of the accounts projection (first key
// 0x0b5e4e11, projections' lock namespace) in the test database: the lock,
// not a log line, is what makes one process the owner.
func (e *projTestEnv) advisoryLocksHeld(t *testing.T) int {
	t.Helper()
	var n int
	err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = x'0b5e4e11'::int4::oid AND objid = hashtext($1)::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, accounts.Name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *projTestEnv) waitCaughtUp(t *testing.T, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := e.waiter.WaitFor(ctx, e.head(t), accounts.Name); err != nil {
		t.Fatalf("not caught up: %v", err)
	}
}

// TestProjectSurvivesSIGKILL kills `multimedia project` at random moments of
// a catch-up, restarts it, and checks the result equals a clean rebuild.
func TestProjectSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := projTestBinary(t)
	env := newProjTestEnv(t)
	projTestInsert(t, env.pool, 15_000) // 90,000 events
	head := env.head(t)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for kills < 5 {
		p := projTestStart(t, bin, env.url)
		deadline := time.Now().Add(10 * time.Second)
		for !p.owns() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(50+r.IntN(400)) * time.Millisecond)
		p.kill(t)
		kills++
		pos, applied := env.checkpoint(t)
		t.Logf("kill %d at checkpoint %s (%d applied)", kills, pos, applied)
		if !pos.Less(head) {
			t.Logf("caught up before kill %d", kills)
			projTestInsert(t, env.pool, 5_000)
			head = env.head(t)
		}
	}
	p := projTestStart(t, bin, env.url)
	env.waitCaughtUp(t, 60*time.Second)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("project after SIGTERM: %v\n%s", err, tail(p.out.String()))
	}
	env.verify(t)
}

// TestProjectHandOver runs two `multimedia project` processes: one applies,
// the other waits; killing the first hands the projection to the second.
func TestProjectHandOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := projTestBinary(t)
	env := newProjTestEnv(t)
	a := projTestStart(t, bin, env.url)
	b := projTestStart(t, bin, env.url)
	projTestInsert(t, env.pool, 5_000)
	env.waitCaughtUp(t, 30*time.Second)
	time.Sleep(500 * time.Millisecond) // several takeover intervals
	if a.owns() == b.owns() {
		t.Fatalf("both or neither own the projection: a=%v b=%v\na:\n%s\nb:\n%s", a.owns(), b.owns(), tail(a.out.String()), tail(b.out.String()))
	}
	if got, want := env.advisoryLocksHeld(t), 1; got != want {
		t.Fatalf("advisory locks held = %d, want %d", got, want)
	}
	owner, other := a, b
	if b.owns() {
		owner, other = b, a
	}
	sts, err := projections.Statuses(context.Background(), env.pool, env.store, []projections.Projection{accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(sts[0].Owner, ":"+strconv.Itoa(owner.cmd.Process.Pid)) || sts[0].State != projections.StateRunning {
		t.Fatalf("status %+v, owner pid %d", sts[0], owner.cmd.Process.Pid)
	}
	// Kill the owner in the middle of a catch-up.
	projTestInsert(t, env.pool, 6_000)
	time.Sleep(100 * time.Millisecond)
	killedAt := time.Now()
	owner.kill(t)
	deadline := time.Now().Add(10 * time.Second)
	for !other.owns() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !other.owns() {
		t.Fatalf("no takeover within 10s:\n%s", tail(other.out.String()))
	}
	t.Logf("takeover after %v", time.Since(killedAt).Round(time.Millisecond))
	projTestInsert(t, env.pool, 2_000)
	env.waitCaughtUp(t, 30*time.Second)
	env.verify(t)
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

// TestProjectionsCommands drives status, skip and retry through Run.
func TestProjectionsCommands(t *testing.T) {
	env := newProjTestEnv(t)
	ctx := context.Background()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return env.url
		}
		if k == "LOG_FORMAT" {
			return "json"
		}
		return ""
	}
	run := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := Run(ctx, args, getenv, &out, &errb)
		return out.String() + errb.String(), code
	}
	projTestInsert(t, env.pool, 100)
	if _, err := env.pool.Exec(ctx, `INSERT INTO es_events (event_id, stream_id, version, type, data)
VALUES (gen_random_uuid(), 'account-broken', 0, 'AccountRegistered.v1', '{"account_id": "nope"}')`); err != nil {
		t.Fatal(err)
	}
	projTestInsert(t, env.pool, 100)

	rt, err := projections.NewRuntime(projections.Config{Store: env.store, Pool: env.pool,
		Projections: []projections.Projection{accounts.New()}, MaxRetries: 1, RetryInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(rctx) }()
	defer func() { cancel(); <-done }()

	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	err = env.waiter.WaitFor(wctx, env.head(t), accounts.Name)
	wcancel()
	if !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("WaitFor: %v, want ErrStopped", err)
	}
	out, code := run("projections", "status")
	if code != 0 || !strings.Contains(out, "stopped") || !strings.Contains(out, "LAG EVENTS") {
		t.Fatalf("status exit %d:\n%s", code, out)
	}
	out, code = run("projections", "skip", "accounts")
	if code != 0 || !strings.Contains(out, "skipped event") {
		t.Fatalf("skip exit %d:\n%s", code, out)
	}
	env.waitCaughtUp(t, 10*time.Second)
	out, code = run("projections", "status")
	if code != 0 || !strings.Contains(out, "running") {
		t.Fatalf("status after skip, exit %d:\n%s", code, out)
	}
	out, code = run("projections", "retry", "accounts")
	if code != 1 || !strings.Contains(out, "not stopped") {
		t.Fatalf("retry of a running projection: exit %d:\n%s", code, out)
	}
	if _, code = run("projections", "rebuild", "nosuch"); code != 2 {
		t.Fatalf("rebuild of an unknown projection: exit %d", code)
	}
	out, code = run("projections", "rebuild", "accounts")
	if code != 0 || !strings.Contains(out, "swapped in") || !strings.Contains(out, "events/s") {
		t.Fatalf("rebuild exit %d:\n%s", code, out)
	}
	fmt.Println(out)
}
