package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOperatorDataIsOffThePublicPort: /metrics moved with every append (so
// it told real accounts from unknown ones) and /readyz gave the driver's
// error (database user, host, port) to anyone. The public router now
// answers 404 to /metrics and only ready or not, per check ok or failing,
// to /readyz; the operator handler (METRICS_ADDR) serves both in full.
// rawRequest serves one request without the OpenAPI check of doRequest.
func rawRequest(h http.Handler, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.RemoteAddr = "192.0.2.10:4321"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestOperatorDataIsOffThePublicPort(t *testing.T) {
	failing := true
	driverErr := errors.New(`failed to connect to user=multimedia database=portal_prod: 10.20.30.40:5432 (db.internal): dial error`)
	e := newTestEnv(t, func(c *Config) {
		c.Checks = []Check{
			{Name: "database", Check: func(context.Context) error {
				if failing {
					return driverErr
				}
				return nil
			}},
			{Name: "migrations", Check: func(context.Context) error { return nil }},
		}
	})
	s := e.server

	// A plain request: the portal answers unknown page paths with its HTML
	// 404 page, which the API document does not describe.
	rec := rawRequest(s, http.MethodGet, "/metrics", nil)
	wantStatus(t, rec, http.StatusNotFound)
	if strings.Contains(rec.Body.String(), "http_request_duration_seconds") || strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Errorf("the public port serves metrics:\n%.300s", rec.Body)
	}

	rec = doRequest(t, s, http.MethodGet, "/readyz", "", nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if got, want := strings.TrimSpace(rec.Body.String()), `{"checks":{"database":"failing","migrations":"ok"},"status":"not_ready"}`; got != want {
		t.Errorf("public /readyz: %s, want %s", got, want)
	}
	for _, leak := range []string{"multimedia", "portal_prod", "10.20.30.40", "5432", "db.internal", "dial"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("public /readyz gives away %q: %s", leak, rec.Body)
		}
	}
	if !strings.Contains(e.logs.String(), "10.20.30.40:5432") {
		t.Errorf("the cause is not logged:\n%s", e.logs)
	}

	// The operator listener's routes are not in the public document:
	// plain requests, no OpenAPI check.
	ops := s.OperatorHandler()
	rec = rawRequest(ops, http.MethodGet, "/readyz", nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if !strings.Contains(rec.Body.String(), "10.20.30.40:5432") {
		t.Errorf("operator /readyz has no detail: %s", rec.Body)
	}
	rec = rawRequest(ops, http.MethodGet, "/metrics", nil)
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), "http_request_duration_seconds") {
		t.Errorf("operator /metrics lacks the request histogram:\n%.400s", rec.Body)
	}

	failing = false
	rec = doRequest(t, s, http.MethodGet, "/readyz", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if got, want := strings.TrimSpace(rec.Body.String()), `{"status":"ready"}`; got != want {
		t.Errorf("public /readyz when ready: %s, want %s", got, want)
	}
}
