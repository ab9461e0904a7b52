package postgres_test

import (
	"context"
	"testing"

	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

func TestContract(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		pool := pgtest.NewPool(t)
		store := postgres.New(context.Background(), pool, postgres.Options{})
		t.Cleanup(store.Close)
		return eventstoretest.Subject{
			Store: store,
			InUse: func() int { return int(pool.Stat().AcquiredConns()) },
		}
	})
}
