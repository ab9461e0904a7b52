// Command multimedia is the portal's one binary. Subcommands:
//
//	serve         HTTP API, projectors and mail (the default)
//	migrate       apply the embedded SQL migrations and exit
//
// Configuration comes from environment variables and flags of the same
// meaning (see config.go); every bad value is reported at once.
//
// This is the only package that reads the environment; it may import
// everything.
package main
