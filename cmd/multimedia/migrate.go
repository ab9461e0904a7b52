package main

import (
	"context"
	"fmt"
)

// runMigrate applies the embedded migrations and exits.
func runMigrate(ctx context.Context, m *Main, _ []string) error {
	pool, err := m.openPool(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	fmt.Fprintln(m.Stdout, "migrations: up to date")
	return nil
}
