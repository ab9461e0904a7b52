package video

import (
	"encoding/json"
	"fmt"
)

// decoders maps each stable type name to its decoder; the names are written
// out, never derived from Go type names.
var decoders = map[string]func([]byte) (Event, error){
	VideoPublishedType: decodeAs[VideoPublished],
	VideoUpdatedType:   decodeAs[VideoUpdated],
	VideoWithdrawnType: decodeAs[VideoWithdrawn],
}

func decodeAs[T Event](data []byte) (Event, error) {
	var e T
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}

// Decode turns a stored payload back into its event value. An unregistered
// type yields an error matching ErrUnknownEventType.
func Decode(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// Encode returns the stable type name and JSON payload of one of this
// package's events (values or pointers).
func Encode(e Event) (eventType string, data []byte, err error) {
	switch v := e.(type) {
	case *VideoPublished:
		e = *v
	case *VideoUpdated:
		e = *v
	case *VideoWithdrawn:
		e = *v
	}
	if e == nil {
		return "", nil, fmt.Errorf("%w: nil event", ErrUnknownEventType)
	}
	eventType = e.EventType()
	if _, ok := decoders[eventType]; !ok {
		return "", nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return eventType, data, nil
}
