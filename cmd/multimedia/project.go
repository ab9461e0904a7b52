package main

import (
	"context"
	"fmt"

	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
)

func init() {
	subcommands["project"] = subcommand{
		summary: "run only the projectors (no HTTP) until SIGTERM",
		run:     runProject,
	}
}

// runProject runs every read model's projector. Several processes may run
// it at once: each projection is applied by whichever holds its lock, and
// another takes over within a second or two when that one dies.
func runProject(ctx context.Context, m *Main, args []string) error {
	if len(args) > 0 {
		fmt.Fprintf(m.Stderr, "multimedia project: unexpected arguments %q\n", args)
		return errUsage
	}
	pool, err := m.openPool(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, closeStore, err := m.openStore(ctx, pool)
	if err != nil {
		return err
	}
	defer closeStore()
	rt, err := projections.NewRuntime(projections.Config{
		Store:       store,
		Pool:        pool,
		Projections: catalog.Default(),
		Logger:      m.Logger,
	})
	if err != nil {
		return err
	}
	m.Logger.Info("projectors running", "projections", len(catalog.Default()))
	if err := rt.Run(ctx); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}
