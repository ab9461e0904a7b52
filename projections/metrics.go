package projections

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-projection series on /metrics.
type metrics struct {
	position    *prometheus.GaugeVec
	lagEvents   *prometheus.GaugeVec
	lagSeconds  *prometheus.GaugeVec
	applied     *prometheus.CounterVec
	failures    *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	stopped     *prometheus.GaugeVec
	owned       *prometheus.GaugeVec
	batch       *prometheus.HistogramVec
	// horizonHeld and horizonPID describe the transaction holding
	// committed events back (0 when none): the pid is a value, not a
	// label, so every new holder does not make a new series.
	horizonHeld    prometheus.Gauge
	horizonPID     prometheus.Gauge
	horizonWaiting prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		position: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_projection_position",
			Help: "Checkpoint of the projection: both parts of the global position (part=commit|prepare)."}, []string{"projection", "part"}),
		lagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_projection_lag_events",
			Help: "Events in the log after the checkpoint (capped at CountedLagCap, or ReadLagCap on a store that cannot count)."}, []string{"projection"}),
		lagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_projection_lag_seconds",
			Help: "Age of the oldest event not yet applied; 0 when caught up."}, []string{"projection"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_projection_events_applied_total",
			Help: "Events applied to the read model and committed by this process."}, []string{"projection"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_projection_failures_total",
			Help: "Batches whose handling failed (after Watermill's retries)."}, []string{"projection"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "multimedia_projection_dead_letters_total",
			Help: "Events put in the dead-letter table by this process."}, []string{"projection"}),
		stopped: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_projection_stopped",
			Help: "1 while the projection is stopped at a dead-lettered event."}, []string{"projection"}),
		owned: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "multimedia_projection_owned",
			Help: "1 while this process holds the projection's advisory lock."}, []string{"projection"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "multimedia_projection_batch_duration_seconds",
			Help:    "Time to handle one batch message, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"projection"}),
		horizonHeld: prometheus.NewGauge(prometheus.GaugeOpts{Name: "multimedia_event_store_horizon_held_seconds",
			Help: "Age of the open transaction that holds committed events back from every projection (the read horizon); 0 when none."}),
		horizonPID: prometheus.NewGauge(prometheus.GaugeOpts{Name: "multimedia_event_store_horizon_held_pid",
			Help: "Backend pid of that transaction (pg_stat_activity.pid); 0 when none or not visible."}),
		horizonWaiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "multimedia_event_store_horizon_waiting_events",
			Help: "Committed events held back by that transaction (capped); 0 when none."}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.position = register(reg, m.position, &err)
	m.lagEvents = register(reg, m.lagEvents, &err)
	m.lagSeconds = register(reg, m.lagSeconds, &err)
	m.applied = register(reg, m.applied, &err)
	m.failures = register(reg, m.failures, &err)
	m.deadLetters = register(reg, m.deadLetters, &err)
	m.stopped = register(reg, m.stopped, &err)
	m.owned = register(reg, m.owned, &err)
	m.batch = register(reg, m.batch, &err)
	m.horizonHeld = register(reg, m.horizonHeld, &err)
	m.horizonPID = register(reg, m.horizonPID, &err)
	m.horizonWaiting = register(reg, m.horizonWaiting, &err)
	return m, err
}

// register registers c, or returns the collector already registered under
// the same name, so two runtimes (tests, serve restarts) share the series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = errors.Join(*errp, err)
	}
	return c
}
