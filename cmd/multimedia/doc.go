// Command multimedia is the portal's one binary. Subcommands:
//
//	serve         HTTP API, projectors and mail (the default)
//	migrate       apply the embedded SQL migrations and exit
//	project       run only the projectors (no HTTP)
//	projections   status, rebuild, skip or retry a read model
//	seed          write the demo data (--demo)
//	audit         history, export, import and verify of the event log
//
// Configuration comes from environment variables and flags of the same
// meaning (see config.go); every bad value is reported at once.
//
// This is the only package that reads the environment; it may import
// everything.
package main
