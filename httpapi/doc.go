// Package httpapi is the HTTP face of the service: a gorilla/mux router, the
// request and response types, bearer-token authentication, per-IP rate
// limits, the one table that maps errors to HTTP statuses, health and
// metrics endpoints, and the OpenAPI document served at /openapi.yaml.
//
// It may import apperr (every error it answers with is an *apperr.Error,
// whose code picks the status in the one table of errors.go), commands (to
// run them), projections and
// projections/content (their query side), audit (the auditors' read side,
// which reads the event store itself rather than a read model, because an
// audit must not trust a derived copy), the domain packages
// domain/account, domain/article and domain/video (their error values and
// limits), eventstore (positions), portal (the page it serves) and
// auth/password (its gate on concurrent password hashing, which answers
// 503 when full); never an adapter such as eventstore/postgres or the
// Postgres stores under adapters/, nor mail. cmd/multimedia wires those in.
package httpapi
