package commands

import "github.com/multimedia-portal/multimedia/apperr"

// Errors of the command layer, each an *apperr.Error with its code; they
// are wrapped with %w and matched with errors.Is. Domain errors pass
// through unchanged and get their code from apperr's one table.
var (
	// ErrUnauthenticated: no valid session for the bearer token.
	ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "not logged in or session expired")
	// ErrConflict: the aggregate kept changing under the command; try again.
	ErrConflict = apperr.New(apperr.Conflict, "too many concurrent changes, try again")
	// ErrNotFound: the thing the command is about does not exist.
	ErrNotFound = apperr.New(apperr.NotFound, "not found")
	// ErrUnavailable: a store the command needs could not be reached.
	ErrUnavailable = apperr.New(apperr.Unavailable, "service unavailable")
)
