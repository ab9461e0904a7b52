package httpapi

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/portal"
)

// openapiYAML is the served document: openapi/00-base.yaml (info and
// components, ending in "paths:") followed by the path fragments of each
// feature (10-accounts.yaml, ...), in file-name order.
var openapiYAML = func() []byte {
	files, _ := fs.Glob(openapiFS, "openapi/*.yaml") // fails only for a malformed pattern
	sort.Strings(files)
	var doc []byte
	for _, f := range files {
		b, _ := openapiFS.ReadFile(f)
		doc = append(doc, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			doc = append(doc, '\n')
		}
	}
	return doc
}()

//go:embed openapi/*.yaml
var openapiFS embed.FS

// Check is one readiness condition, such as "database" or "projections".
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// AccountProfile is what GET /api/me shows: the accounts read model's row.
type AccountProfile struct {
	AccountID    string     `json:"account_id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Newsletter   bool       `json:"newsletter"`
	RegisteredAt time.Time  `json:"registered_at"`
	VerifiedAt   *time.Time `json:"verified_at"`
	LastLoginAt  *time.Time `json:"last_login_at"`
}

// ProfileReader reads the accounts read model.
// Errors: one of code apperr.NotFound while the profile is not built yet,
// or anything else for a failure.
type ProfileReader interface {
	Profile(ctx context.Context, accountID string) (AccountProfile, error)
}

// Consistency waits until the named read models have applied pos.
// Errors: a wrapped context error when time runs out, or one wrapping
// projections.ErrStopped when a read model is stopped at a dead letter.
type Consistency interface {
	WaitFor(ctx context.Context, pos eventstore.Position, readModels ...string) error
}

// RateLimit is the per-IP limit: Count requests per Period, or Off.
type RateLimit struct {
	Off    bool
	Count  int
	Period time.Duration
}

// Config wires the server.
type Config struct {
	Accounts *commands.Accounts
	// Content runs the editors' commands and downloads; nil makes those
	// endpoints answer 503.
	Content *commands.Content
	// ContentReads answers the article, video and statistics queries and
	// feeds the dashboard (projections/content); nil makes them answer 503.
	ContentReads ContentReader
	// Profiles and Consistency come from the projections; nil Profiles makes
	// GET /api/me answer 503.
	Profiles           ProfileReader
	Consistency        Consistency
	ConsistencyTimeout time.Duration
	Checks             []Check
	AdminToken         string
	AuditorToken       string
	Audit              *audit.Service // serves the auditors' endpoints; nil: 503 to a valid auditor token
	RateLimit          RateLimit
	TrustedProxies     []netip.Prefix
	// ReplyFloors hold the public account endpoints' answers to a least
	// time (see ReplyFloors); zero means DefaultReplyFloors.
	ReplyFloors ReplyFloors
	// PasswordGate bounds the argon2id computations of the endpoints that
	// hash (register, verify, login, reset confirm); nil means
	// password.NewGate(0, 0): 2 x GOMAXPROCS slots, 2 s of queueing.
	PasswordGate *password.Gate
	// PositionTokens seals the positions of write replies and opens
	// ?consistent_with= tokens; every instance of one deployment needs the
	// same (NewPositionTokens from the server secret). Nil: a random key,
	// good for this process only.
	PositionTokens *PositionTokens
	// ExportSlots bounds the exports (GET /api/me/export) one instance
	// prepares at once: an export holds the whole account in memory (about
	// 4 MB per 1,000 downloads), so many at once, or one large account
	// asked for in a loop, could exhaust the memory. Over the bound the
	// answer is 503 busy with Retry-After. Zero means 2.
	ExportSlots int
	// ClientTagKey keys the client_tag by which the request log names a
	// client instead of its IP (NewClientTagKey from the server secret, so
	// every instance's tags agree). Nil: a random key, tags agree within
	// this process only.
	ClientTagKey []byte
	// Registry receives the HTTP metrics and is served at /metrics by
	// OperatorHandler (never on the public router); nil means a new
	// registry.
	Registry *prometheus.Registry
	// ReadinessDetail adds operator-only facts to the operator /readyz
	// (each projection's lag, the transaction holding the event store's
	// horizon); they inform, they do not make the instance unready. Nil
	// adds nothing.
	ReadinessDetail func(ctx context.Context) map[string]any
	Logger          *slog.Logger
	Now             func() time.Time
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var problems []error
	if c.Accounts == nil {
		problems = append(problems, errors.New("httpapi: Accounts is nil"))
	}
	if !c.RateLimit.Off && (c.RateLimit.Count < 1 || c.RateLimit.Period <= 0) {
		problems = append(problems, errors.New("httpapi: RateLimit needs Count ≥ 1 and a Period, or Off"))
	}
	if c.ConsistencyTimeout < 0 {
		problems = append(problems, errors.New("httpapi: ConsistencyTimeout is negative"))
	}
	if err := c.ReplyFloors.Validate(); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

type serverMetrics struct {
	requests *prometheus.HistogramVec
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	cfg     Config
	router  *mux.Router
	handler http.Handler
	log     *slog.Logger
	limiter *ipLimiter
	tokens  *PositionTokens
	gate    *password.Gate
	metrics serverMetrics
	now     func() time.Time
	awaited awaitedSessions
	exports chan struct{} // one token per export being prepared
}

// New builds the router.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.ConsistencyTimeout == 0 {
		cfg.ConsistencyTimeout = 2 * time.Second
	}
	if cfg.PositionTokens == nil {
		t, err := newRandomPositionTokens()
		if err != nil {
			return nil, err
		}
		cfg.PositionTokens = t
	}
	if cfg.ExportSlots <= 0 {
		cfg.ExportSlots = 2
	}
	if cfg.ClientTagKey == nil {
		key, err := newRandomClientTagKey()
		if err != nil {
			return nil, err
		}
		cfg.ClientTagKey = key
	}
	if cfg.ReplyFloors == (ReplyFloors{}) {
		cfg.ReplyFloors = DefaultReplyFloors()
	}
	if cfg.PasswordGate == nil {
		cfg.PasswordGate = password.NewGate(0, 0)
	}
	s := &Server{cfg: cfg, router: mux.NewRouter(), log: cfg.Logger, now: cfg.Now, tokens: cfg.PositionTokens, gate: cfg.PasswordGate,
		exports: make(chan struct{}, cfg.ExportSlots)}
	s.metrics.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request durations by route template and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route", "status"})
	if err := cfg.Registry.Register(s.metrics.requests); err != nil {
		return nil, fmt.Errorf("httpapi: register metrics: %w", err)
	}
	if !cfg.RateLimit.Off {
		s.limiter = newIPLimiter(cfg.RateLimit.Count, cfg.RateLimit.Period)
	}
	s.routes()
	s.handler = s.withMeta(s.router)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Router exposes the routes, for the OpenAPI test and later additions.
func (s *Server) Router() *mux.Router { return s.router }

func (s *Server) routes() {
	r := s.router
	r.Use(s.observe)
	// gorilla/mux reports a wrong method under a subrouter (/api) as "not
	// found"; both handlers ask the router which methods the path has, so
	// every known path answers a wrong method with 405 and Allow.
	unrouted := s.observe(http.HandlerFunc(s.handleUnrouted))
	r.NotFoundHandler = unrouted
	r.MethodNotAllowedHandler = unrouted

	r.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.handlePublicReadyz).Methods(http.MethodGet)
	r.HandleFunc("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapiYAML)
	}).Methods(http.MethodGet)

	api := r.PathPrefix("/api").Subrouter()
	api.Use(s.rateLimit)
	// The public account endpoints answer no sooner than their floor, so
	// that an address with an account and one without take as long; the
	// floor is outside the password gate, so its 503s leave on time too.
	floors := s.cfg.ReplyFloors
	if floors.Off {
		floors = ReplyFloors{}
	}
	api.HandleFunc("/accounts", atLeast(floors.Register, s.hashing(s.handleRegister).ServeHTTP)).Methods(http.MethodPost)
	api.HandleFunc("/accounts/verification-code", atLeast(floors.ResendCode, s.handleResendCode)).Methods(http.MethodPost)
	api.HandleFunc("/accounts/verify", atLeast(floors.Verify, s.hashing(s.handleVerify).ServeHTTP)).Methods(http.MethodPost)
	api.HandleFunc("/sessions", atLeast(floors.Login, s.hashing(s.handleLogin).ServeHTTP)).Methods(http.MethodPost)
	api.Handle("/sessions/current", s.requireSession(s.handleLogout)).Methods(http.MethodDelete)
	api.Handle("/me", s.requireSession(s.handleMe)).Methods(http.MethodGet)
	// Erasing checks the password with argon2id: it holds a hashing slot
	// like the login (the session is checked first, without one).
	api.Handle("/me", s.requireSession(func(w http.ResponseWriter, r *http.Request, sess commands.Session) {
		s.hashing(func(w http.ResponseWriter, r *http.Request) { s.handleErase(w, r, sess) }).ServeHTTP(w, r)
	})).Methods(http.MethodDelete)
	api.Handle("/me/export", s.requireSession(s.handleExport)).Methods(http.MethodGet)
	api.Handle("/me/newsletter", s.requireSession(s.handleNewsletter)).Methods(http.MethodPut)
	api.HandleFunc("/password-resets", atLeast(floors.ResetRequest, s.handleResetRequest)).Methods(http.MethodPost)
	api.HandleFunc("/password-resets/confirm", atLeast(floors.ResetConfirm, s.hashing(s.handleResetConfirm).ServeHTTP)).Methods(http.MethodPost)
	s.auditRoutes(api)
	s.contentRoutes(api)
	s.readRoutes(r, api)
	s.portalRoutes(r, api)
}

// routedMethods are the methods tried when a request matches no route.
var routedMethods = []string{http.MethodDelete, http.MethodGet, http.MethodPatch, http.MethodPost, http.MethodPut}

// handleUnrouted answers a request no route took: 405 with Allow when the
// path exists under other methods, else 404; both with the error body.
func (s *Server) handleUnrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range routedMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if s.router.Match(probe, &match) && match.MatchErr == nil {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		if portal.IsPagePath(r) {
			portal.NotFound(w, r)
			return
		}
		s.writeError(w, r, &apperr.Error{Code: apperr.NotFound, Message: "no such endpoint: " + r.URL.Path})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.writeError(w, r, &apperr.Error{Code: apperr.MethodNotAllowed,
		Message: r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.Join(allow, " or "),
		Details: map[string]any{"allow": allow}})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// OperatorHandler serves what only operators may see: /metrics
// (Prometheus) and /readyz with each failing check's error. It belongs on
// the operator listener (METRICS_ADDR, loopback by default), never on the
// public port: metrics move with every append, so they would tell whether
// an address has an account (issue 10), and driver errors name database
// users, hosts and ports.
func (s *Server) OperatorHandler() http.Handler {
	r := mux.NewRouter()
	r.Handle("/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		status, checks := s.runChecks(r)
		detail := make(map[string]string, len(checks))
		for name, err := range checks {
			detail[name] = "ok"
			if err != nil {
				detail[name] = err.Error()
			}
		}
		reply := map[string]any{"status": readiness(status), "checks": detail}
		if s.cfg.ReadinessDetail != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			for k, v := range s.cfg.ReadinessDetail(ctx) {
				if _, taken := reply[k]; !taken {
					reply[k] = v
				}
			}
			cancel()
		}
		writeJSON(w, status, reply)
	}).Methods(http.MethodGet)
	r.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet)
	return r
}

// handlePublicReadyz says ready or not, and which check fails, with no
// detail: the errors go to the log.
func (s *Server) handlePublicReadyz(w http.ResponseWriter, r *http.Request) {
	status, checks := s.runChecks(r)
	if status == http.StatusOK {
		writeJSON(w, status, map[string]string{"status": "ready"})
		return
	}
	summary := make(map[string]string, len(checks))
	for name, err := range checks {
		summary[name] = "ok"
		if err != nil {
			summary[name] = "failing"
			s.log.WarnContext(r.Context(), "readiness check failing", "check", name, "error", err)
		}
	}
	writeJSON(w, status, map[string]any{"status": readiness(status), "checks": summary})
}

// runChecks runs every check with a short deadline; a nil error is a
// passing check.
func (s *Server) runChecks(r *http.Request) (int, map[string]error) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := make(map[string]error, len(s.cfg.Checks))
	status := http.StatusOK
	for _, c := range s.cfg.Checks {
		err := c.Check(ctx)
		checks[c.Name] = err
		if err != nil {
			status = http.StatusServiceUnavailable
		}
	}
	return status, checks
}

func readiness(status int) string {
	if status == http.StatusOK {
		return "ready"
	}
	return "not_ready"
}
