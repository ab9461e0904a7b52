package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/httpapi"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

// profiles serves GET /api/me from the accounts read model, opening the
// sealed address with the account's data key.
type profiles struct {
	reader *accounts.Reader
	keys   commands.DataKeys
}

func newProfiles(pool *pgxpool.Pool, keys commands.DataKeys) profiles {
	return profiles{reader: accounts.NewReader(pool), keys: keys}
}

func (p profiles) Profile(ctx context.Context, accountID string) (httpapi.AccountProfile, error) {
	a, err := p.reader.Get(ctx, accountID)
	if err != nil {
		return httpapi.AccountProfile{}, err
	}
	c, err := p.keys.ForReading(ctx, accountID)
	if err != nil {
		return httpapi.AccountProfile{}, err
	}
	email, err := c.Open(a.Email)
	if err != nil {
		return httpapi.AccountProfile{}, fmt.Errorf("profile of %s: %w", accountID, err)
	}
	return httpapi.AccountProfile{
		AccountID: a.ID, Email: email, Status: a.Status, Newsletter: a.Newsletter,
		RegisteredAt: a.RegisteredAt, VerifiedAt: a.VerifiedAt, LastLoginAt: a.LastLoginAt,
	}, nil
}

// projectionsReady fails readiness while a projection is stopped on a dead
// letter: its read model no longer follows the log until an operator acts
// (`multimedia projections skip|retry NAME`). It reads checkpoints only.
func projectionsReady(pool *pgxpool.Pool, projs []projections.Projection) httpapi.Check {
	return httpapi.Check{Name: "projections", Check: func(ctx context.Context) error {
		if err := projections.CheckStopped(ctx, pool, projs); err != nil {
			return fmt.Errorf("%w (run `multimedia projections skip|retry NAME`)", err)
		}
		return nil
	}}
}

// readinessDetail is the operator /readyz's detail: each projection's
// position, lag and state, and the transaction holding the event store's
// horizon back (null when none), so a stall shows there too.
func readinessDetail(pool *pgxpool.Pool, store eventstore.Store, projs []projections.Projection) func(context.Context) map[string]any {
	return func(ctx context.Context) map[string]any {
		out := map[string]any{}
		if sts, err := projections.Statuses(ctx, pool, store, projs); err != nil {
			out["projections"] = err.Error()
		} else {
			out["projections"] = sts
		}
		hold, err := projections.Horizon(ctx, store)
		switch {
		case err != nil:
			out["horizon"] = err.Error()
		case hold != nil:
			out["horizon"] = map[string]any{"held_seconds": hold.Age.Seconds(), "pid": hold.PID, "state": hold.State,
				"query_start": hold.Query, "waiting_events": hold.Waiting}
		default:
			out["horizon"] = nil
		}
		return out
	}
}
