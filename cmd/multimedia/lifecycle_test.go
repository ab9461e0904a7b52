package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMainLifecycle drives Main's life cycle with a subcommand of its own:
// Run starts background work and returns, Wait returns the work's failure,
// and Close drains servers first, stops the background work, then releases
// resources newest first, once.
func TestMainLifecycle(t *testing.T) {
	var order []string
	boom := errors.New("boom")
	m := NewMain(io.Discard, io.Discard, func(string) string { return "" })
	m.commands = map[string]subcommand{"long": {run: func(ctx context.Context, m *Main, _ []string) error {
		m.onClose(func() error { order = append(order, "pool"); return nil })
		m.onClose(func() error { order = append(order, "store"); return nil })
		m.goBackground(ctx, "worker", true, func(ctx context.Context) error {
			<-ctx.Done()
			order = append(order, "worker stopped")
			return ctx.Err()
		})
		m.goBackground(ctx, "failing", true, func(context.Context) error { return boom })
		m.onShutdown(func(context.Context) error { order = append(order, "server drained"); return nil })
		return nil
	}}}
	ctx := context.Background()
	if err := m.ParseFlags(ctx, []string{"long"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if got := m.Wait(waitCtx); !errors.Is(got, boom) {
		t.Fatalf("Wait = %v, want %v", got, boom)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if want := []string{"server drained", "worker stopped", "store", "pool"}; !slices.Equal(order, want) {
		t.Fatalf("Close order %v, want %v", order, want)
	}
}

// TestWaitAfterOneShotCommand: a one-shot subcommand leaves nothing to
// wait for, so Wait returns at once even with a context that never ends.
func TestWaitAfterOneShotCommand(t *testing.T) {
	m := NewMain(io.Discard, io.Discard, func(string) string { return "" })
	m.commands = map[string]subcommand{"once": {run: func(context.Context, *Main, []string) error { return nil }}}
	if err := m.ParseFlags(context.Background(), []string{"once"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(context.Background()); err != nil {
		t.Fatalf("Wait = %v, want nil", err)
	}
}

// TestUsageListsEveryCommand: help and an unknown command print every row
// of commandTable, the one place subcommands are registered.
func TestUsageListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"nosuch"}} {
		var stderr bytes.Buffer
		code := Run(context.Background(), args, func(string) string { return "" }, io.Discard, &stderr)
		if want := map[string]int{"help": 0, "nosuch": 2}[args[0]]; code != want {
			t.Errorf("%v: exit %d, want %d", args, code, want)
		}
		for name, sub := range commandTable() {
			if !strings.Contains(stderr.String(), name) || !strings.Contains(stderr.String(), sub.summary) {
				t.Errorf("%v: usage does not list %s:\n%s", args, name, stderr.String())
			}
		}
	}
}

// TestBinaryLogsThroughTheConfiguredLogger: what packages log through
// slog's default (commands, the mail relay) comes out in the configured
// format, not as slog's plain text in the middle of a JSON log.
func TestBinaryLogsThroughTheConfiguredLogger(t *testing.T) {
	before := slog.Default()
	t.Cleanup(func() { slog.SetDefault(before) })
	var stderr bytes.Buffer
	env := map[string]string{"LOG_FORMAT": "json", "DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"}
	run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, io.Discard, &stderr, true)
	slog.Info("probe from a package", "k", "v")
	if got, want := stderr.String(), `"msg":"probe from a package"`; !strings.Contains(got, want) {
		t.Fatalf("a package's log line is not in the configured JSON log:\n%s", got)
	}
}
