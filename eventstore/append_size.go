package eventstore

import (
	"fmt"
	"unicode/utf16"
)

// MaxAppendBytes is the largest append, by AppendSize, that every adapter
// accepts: EventStoreDB's default MaxAppendSize (1 MiB), which a node
// enforces per append request. The Postgres adapter has no such limit, but
// code that must run on both stays under it.
const MaxAppendBytes = 1 << 20

// EventSize is the size EventStoreDB counts for one event against its
// append limit: data, metadata and twice the type's length in UTF-16 code
// units (Event.SizeOnDisk in the server). Empty metadata counts as "{}",
// which the EventStoreDB adapter sends in its place.
func EventSize(e EventData) int {
	meta := len(e.Metadata)
	if meta == 0 {
		meta = 2
	}
	return len(e.Data) + meta + 2*len(utf16.Encode([]rune(e.Type)))
}

// AppendSize is the size of an append of events by EventSize.
func AppendSize(events []EventData) int {
	n := 0
	for _, e := range events {
		n += EventSize(e)
	}
	return n
}

// SplitAppend cuts events, in order, into runs of at most maxEvents events
// and maxBytes bytes by AppendSize, for bulk writers that may append in
// several steps (seed, import). A single event over maxBytes is an
// ErrInvalidArgument naming it: no split can carry it.
func SplitAppend(events []EventData, maxEvents, maxBytes int) ([][]EventData, error) {
	if maxEvents < 1 || maxBytes < 1 {
		return nil, &Error{Code: ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("split append: limits must be positive, got %d events and %d bytes", maxEvents, maxBytes)}
	}
	var out [][]EventData
	lo, size := 0, 0
	for i, e := range events {
		n := EventSize(e)
		if n > maxBytes {
			return nil, &Error{Code: ErrorCodeInvalidArgument,
				Message: fmt.Sprintf("event %d (type %q) is %d bytes, over the append limit of %d bytes", i, e.Type, n, maxBytes)}
		}
		if i > lo && (i-lo == maxEvents || size+n > maxBytes) {
			out = append(out, events[lo:i])
			lo, size = i, 0
		}
		size += n
	}
	if lo < len(events) {
		out = append(out, events[lo:])
	}
	return out, nil
}
