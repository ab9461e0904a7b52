// Package scripts holds the shell provisioning behind `make run`, `make
// test` and `make docs-check` (see each script's header), and Go tests
// that run those scripts as a user would. It has no Go API; it may import
// only the standard library.
package scripts
