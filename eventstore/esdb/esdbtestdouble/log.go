package esdbtestdouble

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
)

// record is one stored event. Like a v20+ node, every event is one prepare
// record that commits itself: its $all position is (LogPos, LogPos).
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

// streamState is what the node knows of a stream beyond its events.
type streamState struct {
	tombstoned  bool
	softDeleted bool
	// truncateBefore hides the events below it from stream reads: set by a
	// soft delete and kept when a write undeletes the stream.
	truncateBefore uint64
}

// cachedID is an entry of the node's cache of recent event ids.
type cachedID struct {
	stream   string
	revision uint64
}

// eventLog is the node's transaction file in memory: $all in order, and an
// index per stream. Records are never changed once stored, so readers may
// keep slices of them outside the lock.
type eventLog struct {
	mu      sync.Mutex
	all     []*record
	streams map[string][]*record
	state   map[string]*streamState
	next    uint64        // the next free byte of the imaginary log
	changed chan struct{} // closed and replaced after every write

	// ids is the server's bounded cache of committed event ids
	// (IndexWriter._committedEvents, ESConsts.CommitedEventsMemCacheLimit):
	// the only memory an append with Any or StreamExists has of earlier
	// ids. Oldest entries go first once idBytes passes idLimit; a restart
	// empties it.
	ids      map[uuid.UUID]cachedID
	idOrder  []uuid.UUID
	idBytes  int
	idLimit  int
	position map[uint64]bool // the LogPos of every record, for position checks
}

// DefaultIDCacheBytes is the server's committed-event-id cache: 8 MiB.
const DefaultIDCacheBytes = 8 * 1024 * 1024

func newEventLog() *eventLog {
	return &eventLog{streams: map[string][]*record{}, state: map[string]*streamState{}, next: 4096,
		changed: make(chan struct{}), ids: map[uuid.UUID]cachedID{}, idLimit: DefaultIDCacheBytes,
		position: map[uint64]bool{}}
}

// idCost is what an id costs in the cache, as the server sizes it: the
// guid, the event number, a reference and the stream name.
func idCost(stream string) int { return 16 + 4 + 8 + 24 + 2*len(stream) }

func (l *eventLog) remember(r *record) {
	l.ids[r.id] = cachedID{stream: r.stream, revision: r.revision}
	l.idOrder = append(l.idOrder, r.id)
	l.idBytes += idCost(r.stream)
	for l.idBytes > l.idLimit && len(l.idOrder) > 0 {
		old := l.idOrder[0]
		l.idOrder = l.idOrder[1:]
		if c, ok := l.ids[old]; ok {
			l.idBytes -= idCost(c.stream)
			delete(l.ids, old)
		}
	}
}

func (l *eventLog) forgetIDs() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids, l.idOrder, l.idBytes = map[uuid.UUID]cachedID{}, nil, 0
}

func (l *eventLog) setIDLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.idLimit = n
}

// proposed is an event of an append request.
type proposed struct {
	id          uuid.UUID
	eventType   string
	contentType string
	data        []byte
	metadata    []byte
}

// size is the server's Event.SizeOnDisk: data, metadata and the type's
// UTF-16 length twice.
func (p proposed) size() int {
	return len(p.data) + len(p.metadata) + 2*len(utf16.Encode([]rune(p.eventType)))
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
	deleted    bool // the stream is tombstoned, or soft-deleted under StreamExists
	idempotent bool
	current    int64 // the stream's last revision, -1 for no stream
	commit     uint64
	prepare    uint64
}

// appendEvents writes events to stream if exp holds, with the server's
// idempotency rules (IndexWriter.CheckCommit): with NoStream or an exact
// revision, ids that are already the events after the expected revision
// are recognised from the stream itself, forever; with Any or
// StreamExists, only from the bounded id cache, so after eviction or a
// restart a repeat is written as new events. An id stored in another
// stream does not count: the server keeps ids unique per stream only.
func (l *eventLog) appendEvents(stream string, exp expectation, events []proposed) appendOutcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	current := int64(len(recs)) - 1
	st := l.state[stream]
	if st != nil && st.tombstoned {
		return appendOutcome{deleted: true, current: current}
	}
	soft := st != nil && st.softDeleted
	if soft && exp.kind == expectExists {
		return appendOutcome{deleted: true, current: current}
	}

	if idem, last, matched := l.idempotent(stream, recs, exp, events); matched {
		if idem {
			return appendOutcome{ok: true, idempotent: true, current: last,
				commit: recs[last].commit, prepare: recs[last].prepare}
		}
		return appendOutcome{current: current} // partly the same ids: corrupted idempotency
	}

	switch exp.kind {
	case expectNoStream:
		if current != -1 && !soft {
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
	if soft {
		// A write undeletes the stream: the old events stay hidden.
		st.softDeleted, st.truncateBefore = false, uint64(current+1)
		l.write("$$"+stream, []proposed{{id: uuid.New(), eventType: "$metadata", contentType: "application/json",
			data: []byte(`{"$tb":` + strconv.FormatUint(st.truncateBefore, 10) + `}`)}})
	}
	batch := l.write(stream, events)
	last := batch[len(batch)-1]
	return appendOutcome{ok: true, current: int64(last.revision), commit: last.commit, prepare: last.prepare}
}

// write stores events at the end of stream and of $all, each its own
// self-committing record at (LogPos, LogPos), as v20+ nodes write them.
func (l *eventLog) write(stream string, events []proposed) []*record {
	recs := l.streams[stream]
	now := time.Now().UnixNano() / 100
	batch := make([]*record, len(events))
	for i, e := range events {
		pos := l.next
		batch[i] = &record{
			id: e.id, stream: stream, revision: uint64(len(recs) + i),
			eventType: e.eventType, contentType: e.contentType,
			data: e.data, metadata: e.metadata, created: now,
			commit: pos, prepare: pos,
		}
		l.position[pos] = true
		l.next += 100 + uint64(len(e.data)+len(e.metadata)+len(stream)+len(e.eventType))
		l.remember(batch[i])
	}
	l.all = append(l.all, batch...)
	l.streams[stream] = append(recs, batch...)
	close(l.changed)
	l.changed = make(chan struct{})
	return batch
}

// idempotent reports whether the batch was already written (matched and
// idem), was partly written (matched, not idem), or is new (not matched).
func (l *eventLog) idempotent(stream string, recs []*record, exp expectation, events []proposed) (idem bool, last int64, matched bool) {
	if len(events) == 0 {
		return false, 0, false
	}
	start := -1
	switch exp.kind {
	case expectNoStream:
		start = 0
	case expectRevision:
		start = int(exp.revision) + 1
	default: // any, stream exists: only the id cache remembers
		for i, e := range events {
			c, ok := l.ids[e.id]
			if !ok || c.stream != stream {
				return false, 0, i > 0
			}
			if i == 0 {
				start = int(c.revision)
			} else if int(c.revision) != start+i {
				return false, 0, true
			}
		}
		return true, int64(start + len(events) - 1), true
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

// softDelete hides the stream's events, as DeleteStream does: reads say
// the stream is not found, NoStream, Any and the exact last revision may
// write again (continuing the revisions), StreamExists is refused as
// deleted.
func (l *eventLog) softDelete(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateOf(stream)
	st.softDeleted, st.truncateBefore = true, math.MaxUint64
	l.write("$$"+stream, []proposed{{id: uuid.New(), eventType: "$metadata", contentType: "application/json",
		data: []byte(`{"$tb":9223372036854775807}`)}})
}

// tombstone deletes the stream for good, as TombstoneStream does: every
// later read or append is refused as deleted, and a $streamDeleted record
// of the stream itself lands in $all.
func (l *eventLog) tombstone(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stateOf(stream).tombstoned = true
	pos := l.next
	l.next += 100
	r := &record{id: uuid.New(), stream: stream, revision: math.MaxInt64, eventType: "$streamDeleted",
		contentType: "application/json", data: []byte(`{}`), created: time.Now().UnixNano() / 100, commit: pos, prepare: pos}
	l.position[pos] = true
	l.all = append(l.all, r)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *eventLog) stateOf(stream string) *streamState {
	st := l.state[stream]
	if st == nil {
		st = &streamState{}
		l.state[stream] = st
	}
	return st
}

// readable returns the stream's visible events, and whether it is
// tombstoned.
func (l *eventLog) readable(stream string) ([]*record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	st := l.state[stream]
	if st == nil {
		return recs, false
	}
	if st.tombstoned {
		return nil, true
	}
	if st.truncateBefore >= uint64(len(recs)) {
		return nil, false
	}
	return recs[st.truncateBefore:], false
}

// validPosition reports whether a $all position is one a v20+ node can
// read from: the start, the end, or a record's (LogPos, LogPos). Anything
// else (another store's position, a pre-v20 commit/prepare pair) is what
// the server refuses with "Trying to read from an invalid position".
func (l *eventLog) validPosition(commit, prepare uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if commit != prepare {
		return false
	}
	return commit == 0 || commit == l.next || l.position[commit]
}

// snapshot returns $all as it is now and the channel closed by the next write.
func (l *eventLog) snapshot() ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all, l.changed
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
