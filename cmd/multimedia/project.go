package main

import (
	"context"
	"fmt"

	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
)

// runProject starts every read model's projector; they run until Close.
// Several processes may run it at once: each projection is applied by
// whichever holds its lock, and another takes over within a second or two
// when that one dies.
func runProject(ctx context.Context, m *Main, args []string) error {
	if len(args) > 0 {
		fmt.Fprintf(m.Stderr, "multimedia project: unexpected arguments %q\n", args)
		return errUsage
	}
	pool, err := m.openPool(ctx, true)
	if err != nil {
		return err
	}
	m.onClose(func() error { pool.Close(); return nil })
	store, closeStore, err := m.openStore(m.background(ctx), pool)
	if err != nil {
		return err
	}
	m.onClose(func() error { closeStore(); return nil })
	rt, err := projections.NewRuntime(projections.Config{
		Store:       store,
		Pool:        pool,
		Projections: catalog.Default(),
		Logger:      m.Logger,
	})
	if err != nil {
		return err
	}
	m.goBackground(ctx, "projectors", true, func(ctx context.Context) error {
		if err := rt.Run(ctx); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		return nil
	})
	m.Logger.Info("projectors running", "projections", len(catalog.Default()))
	return nil
}
