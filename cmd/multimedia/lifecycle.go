package main

import (
	"context"
	"errors"
	"sync"
	"time"
)

// lifecycle is what a running subcommand holds until Main.Close: its
// servers, its background work and its resources, stopped in that order,
// so that requests drain before the work they wait for stops, and the
// work stops before the event store and the database it uses close.
type lifecycle struct {
	servers   []func(ctx context.Context) error // drain within the grace period
	bg        context.Context                   // background work's context
	stopBG    context.CancelFunc
	bgWork    sync.WaitGroup
	resources []func() error // closed newest first
	// failed receives the first error of a server or worker that was
	// meant to run until Close; Wait returns it. Nil until one starts.
	failed chan error

	closeOnce sync.Once
	closeErr  error
}

// background returns the context of the subcommand's background work
// (projectors, the mail relay, clean-ups): it outlives ctx's cancellation,
// so that a SIGTERM lets in-flight requests finish first, and ends in
// Close once the servers have drained.
func (m *Main) background(ctx context.Context) context.Context {
	if m.life.bg == nil {
		m.life.bg, m.life.stopBG = context.WithCancel(context.WithoutCancel(ctx))
	}
	return m.life.bg
}

// goBackground runs work in the background context until Close. An error
// other than the context's own ends the subcommand (Wait returns it) when
// fatal is set, and is logged otherwise.
func (m *Main) goBackground(ctx context.Context, name string, fatal bool, work func(ctx context.Context) error) {
	bg := m.background(ctx)
	m.watchFailures()
	m.life.bgWork.Add(1)
	go func() {
		defer m.life.bgWork.Done()
		err := work(bg)
		switch {
		case err == nil || (errors.Is(err, context.Canceled) && bg.Err() != nil):
		case fatal:
			m.fail(err)
		default:
			m.Logger.Warn(name+" stopped with an error", "error", err)
		}
	}()
}

// onShutdown registers a server's graceful stop, run first in Close with
// the SHUTDOWN_TIMEOUT grace period.
func (m *Main) onShutdown(stop func(ctx context.Context) error) {
	m.life.servers = append(m.life.servers, stop)
}

// onClose registers a resource to release last in Close; resources close
// in the reverse order of their registration.
func (m *Main) onClose(release func() error) {
	m.life.resources = append(m.life.resources, release)
}

// watchFailures makes Wait wait: a long-running subcommand calls it (or
// goBackground does) before it starts anything that may fail later.
func (m *Main) watchFailures() {
	if m.life.failed == nil {
		m.life.failed = make(chan error, 1)
	}
}

// fail reports the failure of a server or worker to Wait; only the first
// is kept.
func (m *Main) fail(err error) {
	select {
	case m.life.failed <- err:
	default:
	}
}

// Wait blocks until ctx ends or a long-running subcommand's server or
// worker fails, and returns that failure. It returns at once after a
// one-shot subcommand.
func (m *Main) Wait(ctx context.Context) error {
	if m.life.failed == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.life.failed:
		return err
	}
}

// Close stops what Run started: the servers drain their in-flight
// requests within SHUTDOWN_TIMEOUT, then the background work stops and is
// waited for (the mail relay finishes the mail it holds), then the event
// store and the database pool close. It returns the errors of those steps
// and may be called more than once.
func (m *Main) Close() error {
	l := &m.life
	l.closeOnce.Do(func() {
		var errs []error
		grace := m.Config.ShutdownTimeout
		if grace <= 0 {
			grace = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		for _, stop := range l.servers {
			if err := stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if l.stopBG != nil {
			l.stopBG()
		}
		l.bgWork.Wait()
		for i := len(l.resources) - 1; i >= 0; i-- {
			if err := l.resources[i](); err != nil {
				errs = append(errs, err)
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
