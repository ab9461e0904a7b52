package projections

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/multimedia-portal/multimedia/apperr"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// Projection is one read model. The runtime calls Apply inside a
// transaction it owns and commits the rows together with the checkpoint, so
// a read model never needs its own bookkeeping.
type Projection interface {
	// Name is the projection's constant name: its checkpoint key, its
	// Watermill handler name and the NAME of `multimedia projections`.
	Name() string
	// EventTypes lists the event types Apply wants; others only move the
	// checkpoint.
	EventTypes() []string
	// Tables lists the tables Apply writes. Apply and the queries must name
	// them unqualified (resolved through search_path), so that Rebuild can
	// build copies in another schema and swap them in.
	Tables() []string
	// Apply writes the effect of events (in global order, all after the
	// checkpoint, all of EventTypes) in tx. An error rolls everything back;
	// an event Apply can never handle ends in the dead-letter table.
	Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error
}

// Errors callers branch on with errors.Is; each is an *apperr.Error.
var (
	// ErrNotFound: a query found no row (404).
	ErrNotFound = apperr.New(apperr.NotFound, "projections: not found")
	// ErrNotCaughtUp: WaitFor's context ended before the projections reached
	// the position (503, try again).
	ErrNotCaughtUp = apperr.New(apperr.NotConsistentYet, "projections: not caught up")
	// ErrStopped: a projection is stopped at a dead-lettered event and will
	// not move until an operator runs skip or retry.
	ErrStopped = apperr.New(apperr.ProjectionStopped, "projections: projection stopped at a dead-lettered event")
	// ErrUnknownProjection: a name that no configured projection has.
	ErrUnknownProjection = apperr.New(apperr.NotFound, "projections: unknown projection")
	// ErrNotStopped: skip or retry on a projection that is not stopped.
	ErrNotStopped = apperr.New(apperr.Conflict, "projections: projection is not stopped")
	// ErrRebuildRunning: another process is rebuilding the same projection.
	ErrRebuildRunning = apperr.New(apperr.Conflict, "projections: a rebuild of this projection is already running")
)

// State is what a projection is doing, as shown by Statuses.
type State string

// The states of a projection.
const (
	// StateRunning: owned by a process and caught up (or nearly).
	StateRunning State = "running"
	// StateCatchingUp: owned and working through a backlog.
	StateCatchingUp State = "catching_up"
	// StateStopped: halted at a dead-lettered event.
	StateStopped State = "stopped"
	// StateIdle: no process owns it, so nothing applies new events.
	StateIdle State = "idle"
)
