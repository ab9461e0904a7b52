// Package httpapi is the HTTP face of the service: a gorilla/mux router, the
// request and response types, bearer-token authentication, per-IP rate
// limits, the one table that maps errors to HTTP statuses, health and
// metrics endpoints, and the OpenAPI document served at /openapi.yaml.
//
// It may import commands (to run them), projections (their query side),
// audit (the auditors' read side, which reads the event store itself rather
// than a read model: a departure from DESIGN.md's layering table, because an
// audit must not trust a derived copy), the domain's error values and the
// platform packages; never an adapter such as eventstore/postgres directly.
package httpapi
