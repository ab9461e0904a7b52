package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Runtime runs projectors: one Watermill handler per projection, fed by a
// storeSubscriber. Serve and `multimedia project` each create one; the
// advisory locks make sure each projection is applied by one of them.
type Runtime struct {
	cfg        Config
	projectors []*projector
	byName     map[string]*projector
	metrics    *metrics
}

// NewRuntime validates cfg and registers the metrics; Run starts the work.
func NewRuntime(cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("projections: register metrics: %w", err)
	}
	rt := &Runtime{cfg: cfg, metrics: m, byName: map[string]*projector{}}
	for _, p := range cfg.Projections {
		pr := newProjector(rt, p)
		rt.projectors = append(rt.projectors, pr)
		rt.byName[p.Name()] = pr
	}
	return rt, nil
}

// Run runs every projection until ctx ends, then returns nil once the
// in-flight batches have committed or rolled back.
func (rt *Runtime) Run(ctx context.Context) error {
	wlog := watermill.NewSlogLoggerWithLevelMapping(rt.cfg.Logger.With("component", "watermill"), nil)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	retry := middleware.Retry{
		MaxRetries:      rt.cfg.MaxRetries,
		InitialInterval: rt.cfg.RetryInterval,
		MaxInterval:     10 * rt.cfg.RetryInterval,
		Multiplier:      2,
		Logger:          wlog,
		ShouldRetry: func(p middleware.RetryParams) bool {
			return !errors.Is(p.Err, ErrStopped)
		},
	}
	for _, pr := range rt.projectors {
		h := router.AddConsumerHandler(pr.name, pr.name, newStoreSubscriber(rt), pr.handle)
		h.AddMiddleware(pr.metricsMiddleware, pr.deadLetterMiddleware, retry.Middleware, middleware.Recoverer)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go rt.refreshMetrics(ctx)
	go func() {
		<-ctx.Done()
		_ = router.Close()
	}()
	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	return nil
}

// refreshMetrics keeps the lag gauges current for the projections this
// process owns; the others' owners report theirs.
func (rt *Runtime) refreshMetrics(ctx context.Context) {
	t := time.NewTicker(rt.cfg.MetricsInterval)
	defer t.Stop()
	watch := horizonWatch{log: rt.cfg.Logger}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if h, err := Horizon(ctx, rt.cfg.Store); err == nil {
			rt.metrics.setHorizon(h)
			watch.observe(ctx, h)
		}
		sts, err := Statuses(ctx, rt.cfg.Pool, rt.cfg.Store, rt.cfg.Projections)
		if err != nil {
			continue
		}
		for _, st := range sts {
			rt.metrics.setPosition(st.Name, st.Position)
			rt.metrics.lagEvents.WithLabelValues(st.Name).Set(float64(st.LagEvents))
			rt.metrics.lagSeconds.WithLabelValues(st.Name).Set(st.LagSeconds)
			stopped := 0.0
			if st.State == StateStopped {
				stopped = 1
			}
			rt.metrics.stopped.WithLabelValues(st.Name).Set(stopped)
		}
	}
}

func (m *metrics) setHorizon(h *eventstore.HorizonHold) {
	if h == nil {
		m.horizonHeld.Set(0)
		m.horizonPID.Set(0)
		m.horizonWaiting.Set(0)
		return
	}
	m.horizonHeld.Set(h.Age.Seconds())
	m.horizonPID.Set(float64(h.PID))
	m.horizonWaiting.Set(float64(h.Waiting))
}

func (m *metrics) setPosition(name string, pos eventstore.Position) {
	m.position.WithLabelValues(name, "commit").Set(float64(pos.Commit))
	m.position.WithLabelValues(name, "prepare").Set(float64(pos.Prepare))
}
