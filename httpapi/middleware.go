package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/auth/password"
	"github.com/multimedia-portal/multimedia/commands"
)

type ctxKey int

const (
	metaKey ctxKey = iota
	sessionKey
)

// requestMeta returns the command metadata the middleware put on r.
func requestMeta(r *http.Request) commands.Meta {
	m, _ := r.Context().Value(metaKey).(commands.Meta)
	return m
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// right-most address of X-Forwarded-For that is not itself a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a garbled header is not believed past this point
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a
		}
	}
	return peer
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// withMeta gives each request its ids and client IP: the correlation id comes
// from X-Correlation-ID when the client sent a sane one, the request id is
// always new and is the causation id of the commands the request runs.
func (s *Server) withMeta(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestID := uuid.NewString()
		correlation := r.Header.Get("X-Correlation-ID")
		if !safeID.MatchString(correlation) {
			correlation = requestID
		}
		ip := s.clientIP(r)
		meta := commands.Meta{CorrelationID: correlation, CausationID: requestID, Actor: commands.Anonymous}
		if ip.IsValid() {
			meta.ClientIP = ip.String()
		}
		// No reply of this API is meant to be sniffed into another type.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Request-ID", requestID)
		w.Header().Set("X-Correlation-ID", correlation)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), metaKey, meta)))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// observe logs each request (never its body, and the client by its keyed
// tag, never its IP: see NewClientTagKey) and records its duration by
// route template and status; it also turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		route := "unmatched"
		if cur := mux.CurrentRoute(r); cur != nil {
			if tpl, err := cur.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic in handler", "route", route, "panic", p)
				if rec.status == 0 {
					s.writeError(rec, r, &apperr.Error{Code: apperr.Internal, Message: "internal error"})
				}
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Observe(d.Seconds())
			if route != "/metrics" && route != "/healthz" {
				s.log.LogAttrs(r.Context(), levelFor(rec.status), "http request",
					slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.status),
					slog.Duration("duration", d), slog.String("request_id", w.Header().Get("X-Request-ID")),
					slog.String("client_tag", clientTag(s.cfg.ClientTagKey, requestMeta(r).ClientIP)))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// ipLimiter is a token bucket per client IP, forgotten after idle minutes.
type ipLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	clients map[netip.Addr]*limiterEntry
	swept   time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(count int, period time.Duration) *ipLimiter {
	return &ipLimiter{
		limit:   rate.Limit(float64(count) / period.Seconds()),
		burst:   count,
		clients: map[netip.Addr]*limiterEntry{},
	}
}

// allow reports whether ip may go on now, and if not, how long to wait.
func (l *ipLimiter) allow(ip netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, e := range l.clients {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	e, ok := l.clients[ip]
	if !ok {
		e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit applies the per-IP limit to the API routes (RATE_LIMIT; off for
// load tests). The per-account limits on codes and logins are domain rules
// and hold regardless.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, err := netip.ParseAddr(requestMeta(r).ClientIP)
		if err == nil {
			if ok, wait := s.limiter.allow(limitKey(ip), s.now()); !ok {
				s.writeError(w, r, &apperr.Error{Code: apperr.RateLimited,
					Message: "too many requests from this address; slow down", RetryAfter: wait})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hashing runs next, an endpoint that may compute argon2id, holding a slot
// of the password gate, so that parallel requests cannot exhaust memory.
// The body is read first (bounded by MaxBodyBytes), so a slow sender never
// holds a slot. The slot is taken before anything about the address is
// known: the queueing, and the 503 busy with Retry-After when the queue
// wait runs out, are the same for real and unknown addresses.
func (s *Server) hashing(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			// decodeJSON reports it (400 body_too_large or unreadable_body);
			// nothing will be hashed.
			r.Body = io.NopCloser(failingReader{err})
			next(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		release, err := s.gate.Acquire(r.Context())
		if err != nil {
			if !errors.Is(err, password.ErrBusy) {
				s.log.DebugContext(r.Context(), "gave up waiting for a hashing slot", "error", err)
			}
			s.writeError(w, r, &apperr.Error{Code: apperr.Busy,
				Message:    "the server is checking too many passwords at once; retry in a moment",
				RetryAfter: time.Second})
			return
		}
		defer release()
		next(w, r)
	})
}

// failingReader returns err, so that a body that could not be read is
// reported by decodeJSON as if it read it itself.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// limitKey is the per-IP limiter's key for ip: the address itself for
// IPv4, its /64 for IPv6, since one subscriber usually holds a whole /64
// and could otherwise take a fresh bucket for every request.
func limitKey(ip netip.Addr) netip.Addr {
	if ip.Is6() && !ip.Is4In6() {
		return netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
