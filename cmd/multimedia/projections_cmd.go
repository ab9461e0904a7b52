package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
)

func projectionsUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: multimedia projections status
       multimedia projections rebuild NAME   rebuild into new tables, then swap them in
       multimedia projections skip NAME      resume a stopped projection after its dead letter
       multimedia projections retry NAME     resume a stopped projection at its dead letter`)
}

func runProjections(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		projectionsUsage(m.Stderr)
		return errUsage
	}
	verb, rest := args[0], args[1:]
	var target projections.Projection
	switch verb {
	case "status":
		if len(rest) != 0 {
			projectionsUsage(m.Stderr)
			return errUsage
		}
	case "rebuild", "skip", "retry":
		if len(rest) != 1 {
			projectionsUsage(m.Stderr)
			return errUsage
		}
		if target = catalog.Find(rest[0]); target == nil {
			names := []string{}
			for _, p := range catalog.Default() {
				names = append(names, p.Name())
			}
			fmt.Fprintf(m.Stderr, "multimedia projections %s: no projection %q (have: %s)\n", verb, rest[0], strings.Join(names, ", "))
			return errUsage
		}
	default:
		projectionsUsage(m.Stderr)
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
	switch verb {
	case "status":
		return printStatus(ctx, m.Stdout, pool, store)
	case "skip":
		dl, err := projections.Skip(ctx, pool, target.Name())
		if err != nil {
			return err
		}
		if dl.ID != 0 {
			fmt.Fprintf(m.Stdout, "%s: skipped event %s (%s in %s) at %s; running again\n", target.Name(), dl.EventID, dl.EventType, dl.StreamID, dl.Position)
		} else {
			fmt.Fprintf(m.Stdout, "%s: running again\n", target.Name())
		}
		return nil
	case "retry":
		dl, err := projections.Retry(ctx, pool, target.Name())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s: running again; retrying from event %s at %s\n", target.Name(), dl.EventID, dl.Position)
		return nil
	}
	return rebuild(ctx, m, pool, store, target)
}

func printStatus(ctx context.Context, w io.Writer, pool *pgxpool.Pool, store eventstore.Store) error {
	sts, err := projections.Statuses(ctx, pool, store, catalog.Default())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPOSITION\tLAG EVENTS\tLAG SECONDS\tSTATE\tOWNER\tLAST ERROR")
	for _, st := range sts {
		lag := fmt.Sprint(st.LagEvents)
		if st.LagCapped {
			lag = ">=" + lag
		}
		owner := st.Owner
		if owner == "" {
			owner = "-"
		}
		lastErr := st.LastError
		if len(lastErr) > 80 {
			lastErr = lastErr[:80] + "…"
		}
		state := string(st.State)
		if st.HeldByHorizon {
			state += " (held)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\t%s\t%s\n", st.Name, st.Position, lag, st.LagSeconds, state, owner, lastErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	hold, err := projections.Horizon(ctx, store)
	if err != nil {
		return err
	}
	if hold != nil {
		fmt.Fprintln(w, "\n"+projections.DescribeHold(*hold))
	}
	return nil
}

// rebuild shows a progress bar with rate and ETA on a terminal and one
// plain line every few seconds otherwise.
func rebuild(ctx context.Context, m *Main, pool *pgxpool.Pool, store eventstore.Store, p projections.Projection) error {
	total := estimateEvents(ctx, pool)
	var progress func(int64, eventstore.Position)
	var bar *progressbar.ProgressBar
	if f, ok := m.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(m.Stdout),
			progressbar.OptionSetDescription("rebuild "+p.Name()),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
		)
		progress = func(n int64, _ eventstore.Position) { _ = bar.Set64(n) }
	} else {
		start, lastLine, lastN := time.Now(), time.Time{}, int64(-1)
		progress = func(n int64, pos eventstore.Position) {
			if n == lastN || (time.Since(lastLine) < 2*time.Second && n < total) {
				return
			}
			lastLine, lastN = time.Now(), n
			rate := float64(n) / max(time.Since(start).Seconds(), 1e-3)
			eta := "?"
			if total > n && rate > 0 {
				eta = (time.Duration(float64(total-n)/rate) * time.Second).Round(time.Second).String()
			}
			fmt.Fprintf(m.Stdout, "rebuild %s: %d/%d events, %.0f events/s, at %s, eta %s\n", p.Name(), n, total, rate, pos, eta)
		}
	}
	start := time.Now()
	pos, err := projections.Rebuild(ctx, projections.RebuildOptions{Pool: pool, Store: store, Projection: p, Logger: m.Logger, Progress: progress})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(m.Stdout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "rebuild %s: done in %s, swapped in at %s\n", p.Name(), time.Since(start).Round(time.Millisecond), pos)
	return nil
}

// estimateEvents sizes the progress bar. The port has no count, so this asks
// the Postgres event table when there is one; -1 (unknown) otherwise.
func estimateEvents(ctx context.Context, pool *pgxpool.Pool) int64 {
	var n int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM es_events").Scan(&n); err != nil {
		return -1
	}
	return n
}
