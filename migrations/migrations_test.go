package migrations_test

import (
	"context"
	"testing"

	"github.com/multimedia-portal/multimedia/migrations"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestLateLowerMigrationIsApplied: a migration numbered below one already
// applied (another feature's reserved range landed later) is applied, not
// refused; Check then reports nothing pending.
func TestLateLowerMigrationIsApplied(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t) // every migration applied
	if _, err := pool.Exec(ctx, `DROP FUNCTION es_horizon(); DELETE FROM goose_db_version WHERE version_id = 3`); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Check(ctx, pool); err == nil {
		t.Fatal("Check: got nil with migration 3 missing, want ErrPending")
	}
	applied, err := migrations.Up(ctx, pool)
	if err != nil {
		t.Fatalf("Up with a missing lower migration: %v", err)
	}
	if len(applied) != 1 || applied[0] != 3 {
		t.Fatalf("applied %v, want [3]", applied)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatalf("Check after Up: %v", err)
	}
	var ok bool
	if err := pool.QueryRow(ctx, "SELECT es_horizon() IS NOT NULL").Scan(&ok); err != nil || !ok {
		t.Fatalf("es_horizon after re-applying: %v", err)
	}
}
