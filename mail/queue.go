package mail

import (
	"context"
	"errors"
	"time"
)

// Kind says what a mail is for. It is kept in the clear next to the sealed
// mail, labels the metrics and sets how long the mail is worth sending.
type Kind string

// The kinds of mail the portal sends.
const (
	KindVerificationCode  Kind = "verification_code"
	KindResetCode         Kind = "reset_code"
	KindAlreadyRegistered Kind = "already_registered"
	KindPasswordChanged   Kind = "password_changed"
)

// Kinds lists every Kind, for metrics that show each one from the start.
var Kinds = []Kind{KindVerificationCode, KindResetCode, KindAlreadyRegistered, KindPasswordChanged}

// EventRef names the event a mail is about: the mail leaves only once that
// event is stored. Version is the stream version the event takes when its
// append succeeds (the appender knows it from its expected version), so the
// relay can tell "stored", "never stored" (another event holds that
// version) and "not yet" apart by reading one event.
type EventRef struct {
	Stream  string
	EventID string
	Version uint64
}

// Envelope is one mail to queue.
type Envelope struct {
	Message Message
	Kind    Kind
	// ExpiresAt is when the content stops being useful (a code's expiry):
	// the mail is given up then, sent or not.
	ExpiresAt time.Time
	// After, when set, holds the mail until that event is stored: the
	// caller queues the mail, appends the event, then calls Confirm (or
	// Discard when the append certainly failed). A crash in between is
	// resolved by the outbox, which looks for the event in the store.
	// Nil: the mail is ready at once.
	After *EventRef
}

// Queue is the port of the durable outbox: Enqueue stores a mail before
// the change it reports is stored, so a stored change never lacks its mail,
// and a mail never leaves for a change that was not stored.
type Queue interface {
	// Enqueue stores env durably (when it returns nil, a crash loses
	// nothing) and returns the mail's id.
	Enqueue(ctx context.Context, env Envelope) (id string, err error)
	// Confirm says that env.After's event is stored: deliver now.
	Confirm(ctx context.Context, id string) error
	// Discard says that env.After's event will never be stored (its
	// append was refused): forget the mail.
	Discard(ctx context.Context, id string) error
}

// ErrNotQueued is wrapped by the errors of Confirm and Discard when no mail
// with that id waits (already delivered, discarded or given up).
var ErrNotQueued = errors.New("mail: no such queued mail")
