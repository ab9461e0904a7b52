package commands

import "errors"

// Errors of the command layer; domain errors pass through unchanged.
var (
	// ErrUnauthenticated: no valid session for the bearer token.
	ErrUnauthenticated = errors.New("not logged in or session expired")
	// ErrConflict: the aggregate kept changing under the command; try again.
	ErrConflict = errors.New("too many concurrent changes, try again")
	// ErrNotFound: the thing the command is about does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: a store the command needs could not be reached.
	ErrUnavailable = errors.New("service unavailable")
	// ErrInvalidInput: a command field is malformed (for example too long).
	ErrInvalidInput = errors.New("invalid input")
)
