package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var embedded embed.FS

// ErrPending is returned by Check when migrations are not all applied.
var ErrPending = errors.New("migrations pending")

func provider(pool *pgxpool.Pool) (*goose.Provider, func() error, error) {
	sub, err := fs.Sub(embedded, "sql")
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	// goose's Postgres session locker (an advisory lock) serialises instances
	// that start together: one migrates, the others then find nothing to do.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// Migration numbers are reserved per feature (1-9 event store and
	// platform, 10-19 projections, 20-29 audit, 30-39 content), so a lower
	// number can land after a higher one was applied: apply it then rather
	// than refuse to start. Each migration stands on its own.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, db.Close, nil
}

// Up applies every pending migration and returns the versions it applied.
func Up(ctx context.Context, pool *pgxpool.Pool) ([]int64, error) {
	p, closeDB, err := provider(pool)
	if err != nil {
		return nil, err
	}
	defer func() { _ = closeDB() }()
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: apply: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// Check returns ErrPending (wrapped, naming how many) unless every embedded
// migration is applied; readiness probes use it.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	p, closeDB, err := provider(pool)
	if err != nil {
		return err
	}
	defer func() { _ = closeDB() }()
	has, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migrations: check: %w", err)
	}
	if has {
		return fmt.Errorf("%w: run `multimedia migrate`", ErrPending)
	}
	return nil
}
