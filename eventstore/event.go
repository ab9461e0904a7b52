package eventstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MaxStreamIDBytes is the longest stream name the port accepts.
const MaxStreamIDBytes = 255

// EventData is an event to append. ID makes appends idempotent: appending the
// same ids to the same stream again is a no-op.
type EventData struct {
	ID       uuid.UUID
	Type     string
	Data     json.RawMessage
	Metadata json.RawMessage
}

// RecordedEvent is an event as stored: with its stream, its version in that
// stream (0 for the first event), its global position and when it was stored.
type RecordedEvent struct {
	ID         uuid.UUID
	StreamID   string
	Version    uint64
	Type       string
	Data       json.RawMessage
	Metadata   json.RawMessage
	Position   Position
	RecordedAt time.Time
}

// Metadata is the envelope every event of the portal carries. It is not
// enforced by the port (any JSON object is stored), but commands always fill it.
type Metadata struct {
	EventID       string    `json:"event_id,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	CausationID   string    `json:"causation_id,omitempty"`
	Actor         string    `json:"actor,omitempty"`
	ClientIP      string    `json:"client_ip,omitempty"`
	OccurredAt    time.Time `json:"occurred_at,omitzero"`
}

// ValidateStreamID checks a stream name against the port's rules.
func ValidateStreamID(stream string) error {
	switch {
	case stream == "":
		return &Error{Code: ErrorCodeInvalidStream, Message: "stream name is empty"}
	case len(stream) > MaxStreamIDBytes:
		return &Error{Code: ErrorCodeInvalidStream, Stream: stream[:32] + "…",
			Message: fmt.Sprintf("stream name is %d bytes, over the limit of %d", len(stream), MaxStreamIDBytes)}
	}
	return nil
}

// ValidateAppend checks everything an adapter must refuse before writing:
// the stream name, at least one event, and each event's id, type, data and
// metadata. Adapters call it first so a bad batch writes nothing.
func ValidateAppend(stream string, events []EventData) error {
	return validateAppend(stream, events, true)
}

// ValidateAppendButJSON checks everything ValidateAppend does except that
// data and metadata parse as JSON. It is for an adapter whose database
// parses them anyway and refuses the whole append when one does not (the
// Postgres adapter's jsonb columns): parsing each event twice on every
// append cost that adapter about 1.6 µs an event (measured on the 2-core
// machine). Such an adapter calls ValidateAppend, to name the event, only
// when the database refuses one.
//
// Data or metadata long enough to nest deeper than encoding/json allows
// (maxJSONDepth) is still parsed here: jsonb holds such JSON (Postgres 15
// up to about 13,000 levels), but no Go reader could decode the event.
func ValidateAppendButJSON(stream string, events []EventData) error {
	return validateAppend(stream, events, false)
}

// maxJSONDepth is how deep encoding/json lets JSON nest (json.Valid and
// json.Unmarshal refuse deeper). JSON nested deeper has at least two bytes
// per level, an opening and a closing bracket.
const maxJSONDepth = 10_000

// validJSON reports whether b is JSON that encoding/json accepts. With
// checkAll false it parses only b long enough to nest too deep.
func validJSON(b []byte, checkAll bool) bool {
	return (!checkAll && len(b) <= 2*maxJSONDepth) || json.Valid(b)
}

func validateAppend(stream string, events []EventData, checkJSON bool) error {
	if err := ValidateStreamID(stream); err != nil {
		return err
	}
	if len(events) == 0 {
		return &Error{Code: ErrorCodeInvalidArgument, Stream: stream, Message: "no events to append"}
	}
	var seen map[uuid.UUID]struct{}
	for i, e := range events {
		bad := func(why string) error {
			return &Error{Code: ErrorCodeInvalidEvent, Stream: stream,
				Message: fmt.Sprintf("event %d (type %q) of stream %q: %s", i, e.Type, stream, why)}
		}
		switch {
		case e.ID == uuid.Nil:
			return bad("id is the zero uuid")
		case e.Type == "":
			return bad("type is empty")
		case len(e.Type) > 255:
			return bad("type is over 255 bytes")
		case len(e.Data) == 0:
			return bad("data is empty")
		case !validJSON(e.Data, checkJSON):
			return bad("data is not valid JSON")
		case len(e.Metadata) > 0 && !validJSON(e.Metadata, checkJSON):
			return bad("metadata is not valid JSON")
		}
		if len(events) == 1 {
			break
		}
		if seen == nil {
			seen = make(map[uuid.UUID]struct{}, len(events))
		}
		if _, dup := seen[e.ID]; dup {
			return bad("id appears twice in the same append")
		}
		seen[e.ID] = struct{}{}
	}
	return nil
}
