package esdbtestdouble

import (
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
)

// record is one stored event.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	eventType   string
	contentType string
	data        []byte
	metadata    []byte
	created     int64 // .NET ticks (100 ns) since the Unix epoch, as the server sends
	commit      uint64
	prepare     uint64
}

func (r *record) after(commit, prepare uint64) bool {
	return r.commit > commit || (r.commit == commit && r.prepare > prepare)
}

// eventLog is the node's transaction file in memory: $all in order, and an
// index per stream. Records are never changed once stored, so readers may
// keep slices of them outside the lock.
type eventLog struct {
	mu      sync.Mutex
	all     []*record
	streams map[string][]*record
	next    uint64        // the next free byte of the imaginary log
	changed chan struct{} // closed and replaced after every write
}

func newEventLog() *eventLog {
	return &eventLog{streams: map[string][]*record{}, next: 4096, changed: make(chan struct{})}
}

// proposed is an event of an append request.
type proposed struct {
	id          uuid.UUID
	eventType   string
	contentType string
	data        []byte
	metadata    []byte
}

// expectation is an append's expected revision.
type expectation struct {
	kind     int // expectAny, expectNoStream, expectExists, expectRevision
	revision uint64
}

const (
	expectAny = iota
	expectNoStream
	expectExists
	expectRevision
)

// appendOutcome is what the server answers.
type appendOutcome struct {
	ok         bool
	idempotent bool
	current    int64 // the stream's last revision, -1 for no stream
	commit     uint64
	prepare    uint64
}

// appendEvents writes events to stream if exp holds, with the server's
// idempotency rules: when the ids of the batch are already the events that
// follow the expected revision (or, for any/stream exists, already in this
// stream), nothing is written and the original revision is answered. An id
// stored in another stream does not count: like KurrentDB, the double keeps
// ids unique per stream only.
func (l *eventLog) appendEvents(stream string, exp expectation, events []proposed) appendOutcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	current := int64(len(recs)) - 1

	if idem, last, matched := l.idempotent(recs, exp, events); matched {
		if idem {
			return appendOutcome{ok: true, idempotent: true, current: last}
		}
		return appendOutcome{current: current} // partly the same ids: corrupted idempotency
	}

	switch exp.kind {
	case expectNoStream:
		if current != -1 {
			return appendOutcome{current: current}
		}
	case expectExists:
		if current == -1 {
			return appendOutcome{current: current}
		}
	case expectRevision:
		if current != int64(exp.revision) {
			return appendOutcome{current: current}
		}
	}
	if len(events) == 0 {
		return appendOutcome{ok: true, current: current}
	}
	now := time.Now().UnixNano() / 100
	batch := make([]*record, len(events))
	for i, e := range events {
		batch[i] = &record{
			id: e.id, stream: stream, revision: uint64(current + 1 + int64(i)),
			eventType: e.eventType, contentType: e.contentType,
			data: e.data, metadata: e.metadata, created: now,
			prepare: l.next,
		}
		l.next += 100 + uint64(len(e.data)+len(e.metadata)+len(stream)+len(e.eventType))
	}
	// One commit record ends the append: its events share its position as
	// their commit position and keep their own prepare positions.
	commit := l.next
	l.next += 40
	for _, r := range batch {
		r.commit = commit
	}
	l.all = append(l.all, batch...)
	l.streams[stream] = append(recs, batch...)
	close(l.changed)
	l.changed = make(chan struct{})
	last := batch[len(batch)-1]
	return appendOutcome{ok: true, current: int64(last.revision), commit: last.commit, prepare: last.prepare}
}

// idempotent reports whether the batch was already written (matched and
// idem), was partly written (matched, not idem), or is new (not matched).
func (l *eventLog) idempotent(recs []*record, exp expectation, events []proposed) (idem bool, last int64, matched bool) {
	if len(events) == 0 {
		return false, 0, false
	}
	start := -1
	switch exp.kind {
	case expectNoStream:
		start = 0
	case expectRevision:
		start = int(exp.revision) + 1
	default: // any, stream exists: look the first id up in this stream
		for i, r := range recs {
			if r.id == events[0].id {
				start = i
				break
			}
		}
		if start < 0 {
			return false, 0, false
		}
	}
	if start >= len(recs) || recs[start].id != events[0].id {
		return false, 0, false
	}
	for i, e := range events {
		if start+i >= len(recs) || recs[start+i].id != e.id {
			return false, 0, true
		}
	}
	return true, int64(start + len(events) - 1), true
}

func (l *eventLog) appendSystem(stream, eventType string) {
	l.appendEvents(stream, expectation{kind: expectAny}, []proposed{{
		id: uuid.New(), eventType: eventType, contentType: "application/json", data: []byte(`{}`),
	}})
}

// snapshot returns $all as it is now and the channel closed by the next write.
func (l *eventLog) snapshot() ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all, l.changed
}

func (l *eventLog) stream(name string) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams[name]
}

// firstAfter returns the index of the first record strictly after the
// position, or len(all).
func firstAfter(all []*record, commit, prepare uint64) int {
	return sort.Search(len(all), func(i int) bool { return all[i].after(commit, prepare) })
}

// firstAtOrAfter returns the index of the first record at or after the
// position, or len(all).
func firstAtOrAfter(all []*record, commit, prepare uint64) int {
	return sort.Search(len(all), func(i int) bool {
		r := all[i]
		return r.commit > commit || (r.commit == commit && r.prepare >= prepare)
	})
}
