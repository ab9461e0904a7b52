package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Break is a broken link of a chain: the first event of a stream that does
// not follow from the events before it.
type Break struct {
	Stream   string              `json:"stream"`
	Version  uint64              `json:"version"`
	Position eventstore.Position `json:"position"`
	EventID  uuid.UUID           `json:"event_id"`
	Type     string              `json:"type"`
	// Reason says what does not hold, e.g. "hash mismatch".
	Reason string `json:"reason"`
}

// String names the event, for logs and the CLI.
func (b Break) String() string {
	return fmt.Sprintf("stream %s version %d position %s (event %s, %s): %s", b.Stream, b.Version, b.Position, b.EventID, b.Type, b.Reason)
}

// Report is the result of a verification.
type Report struct {
	Streams int   `json:"streams"`
	Events  int64 `json:"events"`
	// Breaks holds the first broken link of each broken stream, in the
	// order met (global order for the whole log), at most MaxBreaks.
	Breaks []Break `json:"breaks"`
	// Head is the position of the last event checked.
	Head eventstore.Position `json:"head"`
}

// MaxBreaks caps Report.Breaks: past it, a log is plainly not intact.
const MaxBreaks = 100

// OK reports whether every chain checked is intact.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// First returns the first broken link, if any.
func (r Report) First() (Break, bool) {
	if len(r.Breaks) == 0 {
		return Break{}, false
	}
	return r.Breaks[0], true
}

// linkState is what a walk knows of one stream.
type linkState struct {
	next   uint64 // version expected next
	hash   string // hash of the last event
	broken bool
}

// check checks one event against its stream's state and moves it on. It
// returns the break, if the event is the first broken link.
func (s *linkState) check(e eventstore.RecordedEvent) *Break {
	if s.broken {
		return nil
	}
	fail := func(why string, args ...any) *Break {
		s.broken = true
		return &Break{Stream: e.StreamID, Version: e.Version, Position: e.Position, EventID: e.ID, Type: e.Type,
			Reason: fmt.Sprintf(why, args...)}
	}
	switch {
	case e.Version > s.next && s.next == 0:
		return fail("the stream starts at version %d, not 0: earlier events were deleted", e.Version)
	case e.Version > s.next:
		return fail("version gap: expected version %d after version %d, found %d: events were deleted", s.next, s.next-1, e.Version)
	case e.Version < s.next:
		return fail("version %d comes again or out of order after version %d", e.Version, s.next-1)
	}
	prev, stored := chainFields(e.Metadata)
	if stored == "" {
		return fail("the event has no hash: written without the audit chain, or its hash was removed")
	}
	if prev != s.hash {
		what := "the previous event's hash"
		if s.hash == GenesisHash {
			what = "the genesis hash"
		}
		return fail("prev_hash %.12s… does not match %s %.12s…: an event before it was deleted, replaced or moved", prev, what, s.hash)
	}
	h, err := HashEvent(prev, e.StreamID, e.Version, e.Type, e.Data, e.Metadata)
	if err != nil {
		return fail("cannot hash the event: %v", err)
	}
	if h != stored {
		return fail("hash mismatch: the event's type, data or metadata was altered (stored %.12s…, computed %.12s…)", stored, h)
	}
	s.next = e.Version + 1
	s.hash = stored
	return nil
}

// verifyPage is how many events a walk over the log reads at a time; the
// progress callbacks run after each such run of events.
const verifyPage = 1000

// VerifyStream walks one stream's chain from its first event.
func VerifyStream(ctx context.Context, store eventstore.Store, stream string) (Report, error) {
	st := &linkState{hash: GenesisHash}
	var r Report
	for e, err := range eventstore.StreamEvents(ctx, store, stream, 0, verifyPage) {
		if err != nil {
			return r, fmt.Errorf("audit: verify %s: %w", stream, err)
		}
		r.Streams = 1
		r.Events++
		r.Head = e.Position
		if b := st.check(e); b != nil {
			r.Breaks = append(r.Breaks, *b)
			return r, nil
		}
	}
	return r, nil
}

// VerifyAll walks every chain of the log in one pass in global order,
// reporting the first broken link of each broken stream. progress, if not
// nil, is called after every verifyPage events and at the end with the
// events checked so far.
func VerifyAll(ctx context.Context, store eventstore.Store, progress func(events int64, pos eventstore.Position)) (Report, error) {
	states := map[string]*linkState{}
	var r Report
	for e, err := range eventstore.AllEvents(ctx, store, eventstore.Start, verifyPage) {
		if err != nil {
			return r, fmt.Errorf("audit: verify the log after %s: %w", r.Head, err)
		}
		st := states[e.StreamID]
		if st == nil {
			st = &linkState{hash: GenesisHash}
			states[e.StreamID] = st
		}
		r.Events++
		r.Head = e.Position
		if b := st.check(e); b != nil && len(r.Breaks) < MaxBreaks {
			r.Breaks = append(r.Breaks, *b)
		}
		if progress != nil && r.Events%verifyPage == 0 {
			progress(r.Events, r.Head)
		}
	}
	if progress != nil && r.Events%verifyPage != 0 {
		progress(r.Events, r.Head)
	}
	r.Streams = len(states)
	return r, nil
}

// Verify walks the chain of stream, or of every stream when stream is "".
func Verify(ctx context.Context, store eventstore.Store, stream string) (Report, error) {
	if stream == "" {
		return VerifyAll(ctx, store, nil)
	}
	return VerifyStream(ctx, store, stream)
}
