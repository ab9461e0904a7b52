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

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/adapters/postgres/phantoms"
	"github.com/multimedia-portal/multimedia/adapters/postgres/sessions"
	"github.com/multimedia-portal/multimedia/adapters/postgres/snapshots"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/httpapi"
	"github.com/multimedia-portal/multimedia/mail/outbox"
	"github.com/multimedia-portal/multimedia/mail/smtp"
	"github.com/multimedia-portal/multimedia/migrations"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/catalog"
	contentreads "github.com/multimedia-portal/multimedia/projections/content"
)

// serving is what serve wires together, concern by concern: each step
// below fills its part and registers what Close must stop.
type serving struct {
	pool       *pgxpool.Pool
	store      eventstore.Store
	key        []byte
	codes      *account.CodeHasher
	keys       *datakeys.Store
	registry   *prometheus.Registry
	outbox     *outbox.Outbox
	accounts   *commands.Accounts
	content    *commands.Content
	readModels []projections.Projection
	waiter     *projections.Waiter
	api        *httpapi.Server
}

// runServe starts the HTTP API, the projectors (unless PROJECTORS=off) and
// the mail relay, and returns once the API listens. On Close it stops
// taking requests, lets in-flight ones finish within SHUTDOWN_TIMEOUT,
// then stops the background work (the relay drains the mail it holds).
func runServe(ctx context.Context, m *Main, args []string) error {
	if len(args) > 0 {
		fmt.Fprintf(m.Stderr, "multimedia serve: unexpected arguments %q\n", args)
		return errUsage
	}
	m.onClose(func() error { m.Logger.Info("stopped"); return nil }) // closes last
	s := &serving{registry: prometheus.NewRegistry()}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, step := range []func(context.Context, *serving) error{
		m.openStorage, m.startMail, m.newCommandHandlers, m.startProjectors, m.newAPI, m.listen,
	} {
		if err := step(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// openStorage opens the database (migrated), the event store and the
// secret key every instance shares.
func (m *Main) openStorage(ctx context.Context, s *serving) error {
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
	key, err := m.secretKey(ctx, pool)
	if err != nil {
		return err
	}
	s.pool, s.store, s.key = pool, store, key
	if s.codes, s.keys, err = m.privacy(ctx, pool); err != nil {
		return err
	}
	return nil
}

// startMail builds the durable outbox in Postgres and runs its relay to
// SMTP (every instance runs one; a lock keeps each mail to one of them).
func (m *Main) startMail(ctx context.Context, s *serving) error {
	smtpMailer, err := smtp.New(smtp.Config{Addr: m.Config.SMTPAddr, From: m.Config.MailFrom})
	if err != nil {
		return err
	}
	mailOutbox, err := outbox.New(outbox.Config{
		Pool: s.pool, Events: s.store, Mailer: smtpMailer, Secret: s.key,
		MessageIDDomain: mailDomain(smtpMailer.Config().From), Registerer: s.registry, Logger: m.Logger,
	})
	if err != nil {
		return err
	}
	m.goBackground(ctx, "mail relay", false, mailOutbox.Run)
	s.outbox = mailOutbox
	return nil
}

// newCommandHandlers builds the account and content command handlers on
// their adapters (argon2id, the Postgres session and phantom stores), and
// starts the clean-up of expired login state.
func (m *Main) newCommandHandlers(ctx context.Context, s *serving) error {
	var err error
	// The breached-password list is built on first use (about 2 s on a
	// busy machine): build it now rather than in someone's registration.
	go account.CommonPasswordCount()
	policy := account.DefaultPolicy()
	policy.CodeTTL = m.Config.CodeTTL
	sessionStore := sessions.New(s.pool)
	phantomStore := phantoms.New(s.pool)
	s.accounts, err = commands.NewAccounts(commands.AccountsConfig{
		Store: s.store, Passwords: password.Hasher{}, Codes: s.codes, Outbox: s.outbox,
		Sessions: sessionStore, Phantoms: phantomStore, Policy: policy,
		Snapshots: snapshots.New(s.pool),
		Keys:      s.keys, MailEraser: s.outbox, PhantomEraser: phantomStore,
	})
	if err != nil {
		return err
	}
	m.goBackground(ctx, "login state clean-up", false, func(ctx context.Context) error {
		expireLoginState(ctx, m, sessionStore, phantomStore)
		return nil
	})
	s.content, err = commands.NewContent(commands.ContentConfig{Store: s.store, Keys: s.keys, DownloadBaseURL: m.Config.DownloadBaseURL})
	return err
}

// startProjectors runs the read models' projectors here unless
// PROJECTORS=off (then `multimedia project` processes run them); queries
// and consistent_with work either way, since both read Postgres.
func (m *Main) startProjectors(ctx context.Context, s *serving) error {
	s.readModels = catalog.Default()
	if m.Config.Projectors {
		rt, err := projections.NewRuntime(projections.Config{
			Store: s.store, Pool: s.pool, Projections: s.readModels, Logger: m.Logger, Registerer: s.registry,
		})
		if err != nil {
			return err
		}
		m.goBackground(ctx, "projectors", false, rt.Run)
	}
	s.waiter = projections.NewWaiter(m.background(ctx), s.pool, m.Logger)
	m.onClose(func() error { s.waiter.Close(); return nil })
	return nil
}

// newAPI builds the HTTP API on the command handlers, the read models'
// queries, audit and the readiness checks.
func (m *Main) newAPI(_ context.Context, s *serving) error {
	positionTokens, err := httpapi.NewPositionTokens(s.key) // its own HKDF subkey of the secret
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	clientTagKey, err := httpapi.NewClientTagKey(s.key) // the request log's client tags, alike on every instance
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	pool := s.pool
	s.api, err = httpapi.New(httpapi.Config{
		Accounts:           s.accounts,
		Content:            s.content,
		ConsistencyTimeout: m.Config.ConsistencyTimeout,
		Checks: []httpapi.Check{
			{Name: "database", Check: func(ctx context.Context) error { return pool.Ping(ctx) }},
			{Name: "migrations", Check: func(ctx context.Context) error { return migrations.Check(ctx, pool) }},
			projectionsReady(pool, s.readModels),
		},
		Profiles:        newProfiles(pool, s.keys),
		ContentReads:    contentreads.NewReader(pool).WithVideoCache(250 * time.Millisecond),
		Consistency:     s.waiter,
		AdminToken:      m.Config.AdminToken,
		AuditorToken:    m.Config.AuditorToken,
		Audit:           audit.NewService(s.store).WithPrivacy(s.codes, s.keys),
		RateLimit:       httpapi.RateLimit(m.Config.rateLimit),
		TrustedProxies:  m.Config.trustedProxies,
		PositionTokens:  positionTokens,
		ClientTagKey:    clientTagKey,
		Registry:        s.registry,
		ReadinessDetail: readinessDetail(pool, s.store, s.readModels),
		Logger:          m.Logger,
	})
	return err
}

// listen serves the API on HTTP_ADDR (or m.Listener) and the operator
// endpoints on METRICS_ADDR; Close drains both.
func (m *Main) listen(_ context.Context, s *serving) error {
	cfg := m.Config
	ln := m.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
	}
	httpServer := &http.Server{
		Handler:           s.api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	m.watchFailures()
	go func() {
		if err := httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.fail(fmt.Errorf("http server: %w", err))
		}
	}()
	m.onShutdown(func(ctx context.Context) error {
		m.Logger.Info("shutting down", "grace", cfg.ShutdownTimeout)
		if err := httpServer.Shutdown(ctx); err != nil {
			m.Logger.Warn("in-flight requests cut off at shutdown", "error", err)
		}
		return nil
	})
	m.Logger.Info("serving", "addr", "http://"+ln.Addr().String(), "event_store", cfg.EventStore, "smtp", cfg.SMTPAddr)
	opsServer, err := m.serveOperator(s.api.OperatorHandler())
	if err != nil {
		return err
	}
	if opsServer != nil {
		m.onShutdown(func(ctx context.Context) error { _ = opsServer.Shutdown(ctx); return nil })
	}
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
