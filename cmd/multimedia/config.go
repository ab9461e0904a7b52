package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config is everything the binary reads from its environment and flags. A
// flag wins over the environment variable of the same meaning.
type Config struct {
	DatabaseURL string
	EventStore  string
	HTTPAddr    string
	// MetricsAddr is the operator listener (/metrics, detailed /readyz),
	// or "off".
	MetricsAddr        string
	SMTPAddr           string
	MailFrom           string
	AdminToken         string
	AuditorToken       string
	RateLimit          string
	SecretKey          string
	TrustedProxies     string
	CodeTTL            time.Duration
	ConsistencyTimeout time.Duration
	DownloadBaseURL    string
	LogFormat          string
	LogLevel           string
	ShutdownTimeout    time.Duration
	// Projectors runs the projectors inside serve (PROJECTORS=on, the
	// default); off leaves them to `multimedia project` processes.
	Projectors bool

	// Parsed forms, filled by Validate.
	rateLimit      rateLimit
	trustedProxies []netip.Prefix
}

// rateLimit is RATE_LIMIT parsed: requests per period per client IP, or off.
type rateLimit struct {
	Off    bool
	Count  int
	Period time.Duration
}

// envVar names the variable behind each flag, for help text and errors.
var envVar = map[string]string{
	"database-url":        "DATABASE_URL",
	"event-store":         "EVENT_STORE",
	"http-addr":           "HTTP_ADDR",
	"metrics-addr":        "METRICS_ADDR",
	"smtp-addr":           "SMTP_ADDR",
	"mail-from":           "MAIL_FROM",
	"admin-token":         "ADMIN_TOKEN",
	"auditor-token":       "AUDITOR_TOKEN",
	"rate-limit":          "RATE_LIMIT",
	"secret-key":          "SECRET_KEY",
	"trusted-proxies":     "TRUSTED_PROXIES",
	"code-ttl":            "CODE_TTL",
	"consistency-timeout": "CONSISTENCY_TIMEOUT",
	"download-base-url":   "DOWNLOAD_BASE_URL",
	"log-format":          "LOG_FORMAT",
	"log-level":           "LOG_LEVEL",
	"shutdown-timeout":    "SHUTDOWN_TIMEOUT",
	"projectors":          "PROJECTORS",
}

// flagHelp is returned by ParseConfig when -h asked for the flags.
var flagHelp = errors.New("help requested")

// DefaultDatabaseURL is the local development database `make run` creates.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/multimedia?sslmode=disable"

// ParseConfig reads flags from args with defaults from getenv, then validates
// the result, reporting every bad value at once (one line each).
func ParseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, flagName, def, usage string) {
		if v := getenv(envVar[flagName]); v != "" {
			def = v
		}
		fs.StringVar(p, flagName, def, usage+" (env "+envVar[flagName]+")")
	}
	var codeTTL, consistency, shutdown, projectors string
	str(&c.DatabaseURL, "database-url", DefaultDatabaseURL, "Postgres URL for read models (and events, with EVENT_STORE=postgres)")
	str(&c.EventStore, "event-store", "postgres", "event store: postgres, or an esdb:// URL")
	str(&c.HTTPAddr, "http-addr", ":8080", "HTTP listen address")
	str(&c.MetricsAddr, "metrics-addr", "127.0.0.1:9090", "operator listen address for /metrics and detailed /readyz, or off; keep it off the public network")
	str(&c.SMTPAddr, "smtp-addr", "127.0.0.1:1025", "SMTP server host:port")
	str(&c.MailFrom, "mail-from", "NATO Multimedia <no-reply@multimedia.localhost>", "sender of account emails")
	str(&c.AdminToken, "admin-token", "", "bearer token of editors; unset: editor endpoints answer 403")
	str(&c.AuditorToken, "auditor-token", "", "bearer token of auditors; unset: auditor endpoints answer 403")
	str(&c.RateLimit, "rate-limit", "120/m", "per-IP request limit as N/s, N/m or N/h, or off")
	str(&c.SecretKey, "secret-key", "", "key of the code HMACs (at least 32 bytes); unset: generated once and kept in the database")
	str(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	str(&codeTTL, "code-ttl", "30m", "lifetime of emailed codes")
	str(&consistency, "consistency-timeout", "2s", "longest wait of a consistent_with query")
	str(&c.DownloadBaseURL, "download-base-url", "https://media.example.org/videos/", "base URL of video files")
	str(&c.LogFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	str(&shutdown, "shutdown-timeout", "15s", "grace period for in-flight requests on SIGTERM")
	str(&projectors, "projectors", "on", "run the projectors inside serve: on, or off when `multimedia project` processes run them")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, nil, flagHelp
		}
		return c, nil, err
	}
	var problems []error
	dur := func(p *time.Duration, flagName, v string, lo, hi time.Duration) {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("%s: %q is not a duration like 30m or 2s", envVar[flagName], v))
		case d < lo || d > hi:
			problems = append(problems, fmt.Errorf("%s: %s is outside %s..%s", envVar[flagName], d, lo, hi))
		default:
			*p = d
		}
	}
	dur(&c.CodeTTL, "code-ttl", codeTTL, time.Minute, 24*time.Hour)
	dur(&c.ConsistencyTimeout, "consistency-timeout", consistency, 0, time.Minute)
	dur(&c.ShutdownTimeout, "shutdown-timeout", shutdown, 0, 10*time.Minute)
	switch projectors {
	case "on", "true", "1":
		c.Projectors = true
	case "off", "false", "0":
	default:
		problems = append(problems, fmt.Errorf("PROJECTORS: %q is neither on nor off", projectors))
	}
	if err := c.Validate(); err != nil {
		problems = append(problems, err)
	}
	return c, fs.Args(), errors.Join(problems...)
}

// Validate checks every field and parses the structured ones; it joins one
// error per bad value.
func (c *Config) Validate() error {
	var problems []error
	bad := func(flagName, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: "+format, append([]any{envVar[flagName]}, args...)...))
	}
	if _, err := pgx.ParseConfig(c.DatabaseURL); err != nil || !strings.Contains(c.DatabaseURL, "://") && !strings.Contains(c.DatabaseURL, "=") {
		bad("database-url", "not a Postgres URL like postgres://user@host:5432/db")
	}
	if c.EventStore != "postgres" {
		u, err := url.Parse(c.EventStore)
		if err != nil || (u.Scheme != "esdb" && u.Scheme != "esdb+discover" && u.Scheme != "kurrentdb") || u.Host == "" {
			bad("event-store", "%q is neither postgres nor an esdb://host:port URL", c.EventStore)
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http-addr", "%q is not host:port (for example :8080)", c.HTTPAddr)
	}
	if c.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("metrics-addr", "%q is neither off nor host:port (for example 127.0.0.1:9090)", c.MetricsAddr)
		} else if c.MetricsAddr == c.HTTPAddr {
			bad("metrics-addr", "must differ from HTTP_ADDR: operator data stays off the public port")
		}
	}
	if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
		bad("smtp-addr", "%q is not host:port (for example 127.0.0.1:1025)", c.SMTPAddr)
	}
	if !strings.Contains(c.MailFrom, "@") {
		bad("mail-from", "%q is not an email address", c.MailFrom)
	}
	for _, tok := range []struct{ flag, v string }{{"admin-token", c.AdminToken}, {"auditor-token", c.AuditorToken}} {
		if tok.v != "" && len(tok.v) < 16 {
			bad(tok.flag, "is %d characters; use at least 16", len(tok.v))
		}
	}
	if c.AdminToken != "" && c.AdminToken == c.AuditorToken {
		bad("auditor-token", "must differ from ADMIN_TOKEN")
	}
	if rl, err := parseRateLimit(c.RateLimit); err != nil {
		bad("rate-limit", "%v", err)
	} else {
		c.rateLimit = rl
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("secret-key", "is %d bytes; use at least 32 (or leave it unset)", len(c.SecretKey))
	}
	c.trustedProxies = nil
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				bad("trusted-proxies", "%q is not an IP address or CIDR", s)
				continue
			}
		}
		c.trustedProxies = append(c.trustedProxies, p)
	}
	if u, err := url.Parse(c.DownloadBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("download-base-url", "%q is not an http(s) URL", c.DownloadBaseURL)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		bad("log-format", "%q is not auto, text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(problems...)
}

func parseRateLimit(s string) (rateLimit, error) {
	if s == "off" {
		return rateLimit{Off: true}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return rateLimit{}, fmt.Errorf("%q is not N/s, N/m, N/h or off", s)
	}
	periods := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}
	d, ok := periods[per]
	if !ok {
		return rateLimit{}, fmt.Errorf("%q: period must be s, m or h", s)
	}
	return rateLimit{Count: count, Period: d}, nil
}
