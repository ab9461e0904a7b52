package projections

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Config is what a Runtime needs. Store, Pool and Projections are required;
// the rest has defaults.
type Config struct {
	// Store is the event store the projections read; any adapter.
	Store eventstore.Store
	// Pool holds the read models, checkpoints and dead letters.
	Pool *pgxpool.Pool
	// Projections to run; names must be unique.
	Projections []Projection
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the projection metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Owner names this process in status output (default host:pid).
	Owner string

	// MaxBatch caps the events applied in one transaction (default 2000).
	MaxBatch int
	// MaxRetries is how often Watermill retries a failing batch before it
	// is dead-lettered (default 3).
	MaxRetries int
	// RetryInterval is the first backoff between retries (default 100ms).
	RetryInterval time.Duration
	// TakeoverInterval is how often a process that does not own a
	// projection tries its lock, and how often an owner checks its lock
	// connection (default 1s).
	TakeoverInterval time.Duration
	// MetricsInterval is how often the lag and horizon gauges are refreshed
	// (default 1s, so a stall shows within two seconds).
	MetricsInterval time.Duration
}

// Validate reports every missing or bad field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("projections: Config.Store is required"))
	}
	if c.Pool == nil {
		errs = append(errs, errors.New("projections: Config.Pool is required"))
	}
	if len(c.Projections) == 0 {
		errs = append(errs, errors.New("projections: Config.Projections is empty"))
	}
	seen := map[string]bool{}
	for i, p := range c.Projections {
		if p == nil {
			errs = append(errs, fmt.Errorf("projections: Config.Projections[%d] is nil", i))
			continue
		}
		name := p.Name()
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("projections: Config.Projections[%d] has no name", i))
		case seen[name]:
			errs = append(errs, fmt.Errorf("projections: two projections are named %q", name))
		}
		seen[name] = true
		if len(p.EventTypes()) == 0 {
			errs = append(errs, fmt.Errorf("projections: projection %q handles no event types", name))
		}
		if len(p.Tables()) == 0 {
			errs = append(errs, fmt.Errorf("projections: projection %q declares no tables", name))
		}
	}
	if c.MaxBatch < 0 || c.MaxRetries < 0 || c.RetryInterval < 0 || c.TakeoverInterval < 0 || c.MetricsInterval < 0 {
		errs = append(errs, errors.New("projections: MaxBatch, MaxRetries and the intervals must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 2000
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = 100 * time.Millisecond
	}
	if c.TakeoverInterval == 0 {
		c.TakeoverInterval = time.Second
	}
	if c.MetricsInterval == 0 {
		c.MetricsInterval = time.Second
	}
	return c
}
