package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/httpapi"
	"github.com/multimedia-portal/multimedia/mail/outbox"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/migrations"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
	contentreads "github.com/multimedia-portal/multimedia/projections/content"
)

func init() {
	subcommands["serve"] = subcommand{
		summary: "serve the HTTP API, run the projectors and send mail (default)",
		run:     func(ctx context.Context, m *Main, _ []string) error { return m.serve(ctx) },
	}
}

// serve runs until ctx ends (SIGINT/SIGTERM), then stops taking requests,
// lets in-flight ones finish within SHUTDOWN_TIMEOUT and drains the mail
// queue.
func (m *Main) serve(ctx context.Context) error {
	cfg := m.Config
	pool, err := m.openPool(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Background work stops after the HTTP server has drained.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	store, closeStore, err := m.openStore(bgCtx, pool)
	if err != nil {
		return err
	}
	defer closeStore()

	key, err := m.secretKey(ctx, pool)
	if err != nil {
		return err
	}
	codes, err := account.NewCodeHasher(key)
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	positionTokens, err := httpapi.NewPositionTokens(key) // its own HKDF subkey of the secret
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	smtpMailer, err := smtp.New(smtp.Config{Addr: cfg.SMTPAddr, From: cfg.MailFrom})
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Mail: the durable outbox in Postgres, and its relay (every instance
	// runs one; row locks keep each mail to one of them).
	mailOutbox, err := outbox.New(outbox.Config{
		Pool: pool, Events: store, Mailer: smtpMailer, Secret: key,
		MessageIDDomain: mailDomain(smtpMailer.Config().From), Registerer: registry, Logger: m.Logger,
	})
	if err != nil {
		return err
	}
	outboxDone := make(chan error, 1)
	go func() { outboxDone <- mailOutbox.Run(bgCtx) }()

	// The breached-password list is built on first use (about 2 s on a
	// busy machine): build it now rather than in someone's registration.
	go account.CommonPasswordCount()
	policy := account.DefaultPolicy()
	policy.CodeTTL = cfg.CodeTTL
	sessionStore := sessions.New(pool)
	phantomStore := phantoms.New(pool)
	accounts, err := commands.NewAccounts(commands.AccountsConfig{
		Store: store, Passwords: password.Hasher{}, Codes: codes, Outbox: mailOutbox,
		Sessions: sessionStore, Phantoms: phantomStore, Policy: policy,
	})
	if err != nil {
		return err
	}
	go expireLoginState(bgCtx, m, sessionStore, phantomStore)
	content, err := commands.NewContent(commands.ContentConfig{Store: store, DownloadBaseURL: cfg.DownloadBaseURL})
	if err != nil {
		return err
	}

	// Read models: the projectors run here unless PROJECTORS=off (then
	// `multimedia project` processes run them); queries and consistent_with
	// work either way, since both read Postgres.
	readModels := catalog.Default()
	projectorsDone := make(chan error, 1)
	if cfg.Projectors {
		rt, err := projections.NewRuntime(projections.Config{
			Store: store, Pool: pool, Projections: readModels, Logger: m.Logger, Registerer: registry,
		})
		if err != nil {
			return err
		}
		go func() { projectorsDone <- rt.Run(bgCtx) }()
	} else {
		projectorsDone <- nil
	}
	waiter := projections.NewWaiter(bgCtx, pool, m.Logger)
	defer waiter.Close()
	server, err := httpapi.New(httpapi.Config{
		Accounts:           accounts,
		Content:            content,
		ConsistencyTimeout: cfg.ConsistencyTimeout,
		Checks: []httpapi.Check{
			{Name: "database", Check: func(ctx context.Context) error { return pool.Ping(ctx) }},
			{Name: "migrations", Check: func(ctx context.Context) error { return migrations.Check(ctx, pool) }},
			projectionsReady(pool, readModels),
		},
		Profiles:        newProfiles(pool),
		ContentReads:    contentreads.NewReader(pool).WithVideoCache(250 * time.Millisecond),
		Consistency:     waiter,
		AdminToken:      cfg.AdminToken,
		AuditorToken:    cfg.AuditorToken,
		Audit:           audit.NewService(store),
		RateLimit:       httpapi.RateLimit(cfg.rateLimit),
		TrustedProxies:  cfg.trustedProxies,
		PositionTokens:  positionTokens,
		Registry:        registry,
		ReadinessDetail: readinessDetail(pool, store, readModels),
		Logger:          m.Logger,
	})
	if err != nil {
		return err
	}

	ln := m.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
	}
	httpServer := &http.Server{
		Handler:           server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	m.Logger.Info("serving", "addr", "http://"+ln.Addr().String(), "event_store", cfg.EventStore, "smtp", cfg.SMTPAddr)
	opsServer, err := m.serveOperator(server.OperatorHandler())
	if err != nil {
		_ = httpServer.Close()
		return err
	}

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	m.Logger.Info("shutting down", "grace", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		m.Logger.Warn("in-flight requests cut off at shutdown", "error", err)
	}
	if opsServer != nil {
		_ = opsServer.Shutdown(shutdownCtx)
	}
	stopBackground()
	if err := <-projectorsDone; err != nil && !errors.Is(err, context.Canceled) {
		m.Logger.Warn("projectors stopped with an error", "error", err)
	}
	if err := <-outboxDone; err != nil {
		m.Logger.Warn("mail relay stopped with an error", "error", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}

// serveOperator starts the operator listener (METRICS_ADDR, or
// m.MetricsListener) with /metrics and the detailed /readyz; nil when
// METRICS_ADDR is off. A failure to listen stops serve: an operator who
// set an address expects it to answer.
func (m *Main) serveOperator(h http.Handler) (*http.Server, error) {
	if m.Config.MetricsAddr == "off" {
		m.Logger.Info("operator listener off (METRICS_ADDR=off): no /metrics")
		return nil, nil
	}
	ln := m.MetricsListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", m.Config.MetricsAddr); err != nil {
			return nil, fmt.Errorf("METRICS_ADDR %s: %w", m.Config.MetricsAddr, err)
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("operator listener stopped", "error", err)
		}
	}()
	m.Logger.Info("operator endpoints", "addr", "http://"+ln.Addr().String(), "paths", "/metrics /readyz /healthz")
	return srv, nil
}

// mailDomain is the domain of the sender address from, for Message-IDs
// ("localhost" when it has none).
func mailDomain(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			return strings.ToLower(a.Address[i+1:])
		}
	}
	return "localhost"
}

// expireLoginState deletes expired sessions and devices, and idle phantom
// accounts, every few minutes.
func expireLoginState(ctx context.Context, m *Main, store *sessions.Store, phantomStore *phantoms.Store) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := store.DeleteExpired(ctx, time.Now()); err != nil {
				m.Logger.Warn("expire sessions", "error", err)
			} else if n > 0 {
				m.Logger.Info("expired sessions deleted", "count", n)
			}
			if n, err := phantomStore.DeleteIdle(ctx); err != nil {
				m.Logger.Warn("expire phantom accounts", "error", err)
			} else if n > 0 {
				m.Logger.Info("idle phantom accounts deleted", "count", n)
			}
		}
	}
}
