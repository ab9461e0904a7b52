// Command multimedia is the portal's one binary. Subcommands, registered
// in one table (commandTable in main.go):
//
//	serve         HTTP API, projectors and mail (the default)
//	migrate       apply the embedded SQL migrations and exit
//	project       run only the projectors (no HTTP)
//	projections   status, rebuild, skip or retry a read model
//	seed          write the demo data (--demo)
//	audit         history, export, import and verify of the event log
//	privacy       migrate a store of unsealed personal data into a fresh one
//
// The program is a Main with a life cycle: NewMain, ParseFlags (the
// subcommand, its flags and the environment), Run (a one-shot subcommand
// runs to its end; serve and project start and return), Wait (until a
// signal or a failure) and Close (servers drain, background work stops,
// the event store and the pool close; lifecycle.go). End-to-end tests
// drive the same steps in-process. serve.go wires the server concern by
// concern: storage, mail, command handlers, projectors, API, listeners.
//
// Configuration comes from environment variables and flags of the same
// meaning (see config.go); every bad value is reported at once.
//
// This is the only package that reads the environment; it may import
// everything.
package main
