package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

func TestStatusesIdleThenRunning(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	_, pos := appendAccount(t, store)
	projs := []projections.Projection{accounts.New()}
	// The whole log is the lag. Readers can be held back for a moment by
	// a transaction in another database (parallel tests create some), so
	// compare once the log reads up to pos, and again if that changes.
	var (
		sts    []projections.Status
		logged []eventstore.RecordedEvent
		err    error
	)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if sts, err = projections.Statuses(ctx, pool, store, projs); err != nil {
			t.Fatal(err)
		}
		if logged, err = store.ReadAll(ctx, eventstore.Start, 1000); err != nil {
			t.Fatal(err)
		}
		complete := len(logged) > 0 && logged[len(logged)-1].Position == pos
		if complete && sts[0].LagEvents == int64(len(logged)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sts[0].State != projections.StateIdle || sts[0].Owner != "" || !sts[0].Position.IsZero() {
		t.Fatalf("before any projector: %+v", sts[0])
	}
	if got, want := sts[0].LagEvents, int64(len(logged)); got != want || want == 0 {
		t.Errorf("lag before any projector = %d events, want %d (the whole log)", got, want)
	}
	startRuntime(t, projections.Config{Store: store, Pool: pool, Owner: "test-owner"})
	w := projections.NewWaiter(ctx, pool, nil)
	defer w.Close()
	waitFor(t, w, pos, 10*time.Second)
	sts, err = projections.Statuses(ctx, pool, store, projs)
	if err != nil {
		t.Fatal(err)
	}
	if st := sts[0]; st.State != projections.StateRunning || st.Owner != "test-owner" || st.LagEvents != 0 || st.Position != pos || st.AppliedEvents == 0 {
		t.Fatalf("caught up: %+v", st)
	}
}

func TestRebuildRefusesAConcurrentRebuild(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	const rebuildLockNamespace = 0x0b5e4e12
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext('accounts'))", rebuildLockNamespace); err != nil {
		t.Fatal(err)
	}
	_, err = projections.Rebuild(ctx, projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New()})
	if !errors.Is(err, projections.ErrRebuildRunning) {
		t.Fatalf("Rebuild while another runs: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, hashtext('accounts'))", rebuildLockNamespace); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.Rebuild(ctx, projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New()}); err != nil {
		t.Fatalf("Rebuild of an empty log: %v", err)
	}
}

func TestValidateRefusesDuplicateNames(t *testing.T) {
	err := projections.Config{Projections: []projections.Projection{accounts.New(), accounts.New()}}.Validate()
	if err == nil || !contains(err.Error(), `two projections are named "accounts"`) {
		t.Fatalf("Validate: %v", err)
	}
}
