package eventcodec

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Event is what a codec handles: a value that states its stable, versioned
// type name. Each domain package's Event interface has the same method.
type Event interface {
	// EventType returns the stable type name stored with the event.
	EventType() string
}

// Errors are the errors a Codec returns, made by the domain package that
// owns it so that they match that package's sentinels.
type Errors struct {
	// Unknown makes the error for a type name that is not registered, or
	// for an event of a type that is not registered. It must match the
	// package's ErrUnknownEventType.
	Unknown func(eventType string) error
	// Nil is returned by Encode for a nil event or a nil pointer to one.
	Nil error
}

// Wrapping returns the Errors that wrap sentinel: `<sentinel>: "<name>"`
// for an unknown type name and `<sentinel>: nil event` for a nil event.
func Wrapping(sentinel error) Errors {
	return Errors{
		Unknown: func(eventType string) error { return fmt.Errorf("%w: %q", sentinel, eventType) },
		Nil:     fmt.Errorf("%w: nil event", sentinel),
	}
}

// Registration is one event type registered under its stable name; Type
// makes it.
type Registration struct {
	name   string
	decode func([]byte) (Event, error)
	// value returns e as a value of the registered type when e is one, or a
	// pointer to one (nil for a nil pointer); ok is false for other types.
	value func(e Event) (v Event, ok bool)
	// declared is what the type's own EventType method returns.
	declared func() string
}

// Type registers the event type T, a struct type whose values are the
// events, under the stable name written out by the caller. Pointers to T are
// accepted by Encode and Value too.
func Type[T Event](name string) Registration {
	return Registration{
		name: name,
		decode: func(data []byte) (Event, error) {
			var e T
			if err := json.Unmarshal(data, &e); err != nil {
				return nil, err
			}
			return e, nil
		},
		value: func(e Event) (Event, bool) {
			switch v := any(e).(type) {
			case T:
				return e, true // as given: no new copy
			case *T:
				if v == nil {
					return nil, true
				}
				return *v, true
			}
			return nil, false
		},
		declared: func() string {
			var zero T
			return zero.EventType()
		},
	}
}

// Codec encodes and decodes the events of one domain package. It is
// immutable after New and safe for concurrent use.
type Codec struct {
	errs   Errors
	types  []Registration
	byName map[string]Registration
}

// New builds the codec of the registered types. It panics, at package
// initialisation of its caller, when errs lacks a field, a name is empty or
// given twice, or a name differs from what its type's EventType returns:
// those are programming errors that no input can cause.
func New(errs Errors, types ...Registration) *Codec {
	if errs.Unknown == nil || errs.Nil == nil {
		panic("eventcodec: Errors.Unknown and Errors.Nil are required")
	}
	c := &Codec{errs: errs, types: types, byName: make(map[string]Registration, len(types))}
	for _, t := range types {
		switch {
		case t.name == "":
			panic("eventcodec: empty type name")
		case t.declared() != t.name:
			panic(fmt.Sprintf("eventcodec: type registered as %q says its EventType is %q", t.name, t.declared()))
		}
		if _, dup := c.byName[t.name]; dup {
			panic(fmt.Sprintf("eventcodec: type name %q registered twice", t.name))
		}
		c.byName[t.name] = t
	}
	return c
}

// Names lists every registered type name, sorted.
func (c *Codec) Names() []string {
	names := make([]string, 0, len(c.types))
	for _, t := range c.types {
		names = append(names, t.name)
	}
	slices.Sort(names)
	return names
}

// Decode turns a stored payload back into its event value (never a
// pointer). An unregistered name yields Errors.Unknown; a payload that is
// not the type's JSON yields an error naming the type.
func (c *Codec) Decode(eventType string, data []byte) (Event, error) {
	t, ok := c.byName[eventType]
	if !ok {
		return nil, c.errs.Unknown(eventType)
	}
	e, err := t.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// Encode returns the stable type name and JSON payload of a registered
// event, given as a value or a pointer. A nil event yields Errors.Nil; an
// event of any other type (another package's, say) yields Errors.Unknown.
func (c *Codec) Encode(e Event) (eventType string, data []byte, err error) {
	if e == nil {
		return "", nil, c.errs.Nil
	}
	for _, t := range c.types {
		v, ok := t.value(e)
		if !ok {
			continue
		}
		if v == nil {
			return "", nil, c.errs.Nil
		}
		data, err := json.Marshal(v)
		if err != nil {
			return "", nil, fmt.Errorf("encode %s: %w", t.name, err)
		}
		return t.name, data, nil
	}
	return "", nil, c.errs.Unknown(e.EventType())
}

// Value returns e as a value when it is a pointer to a registered type (nil
// for a nil pointer), and e itself otherwise, so that callers may switch on
// value types whichever form they were given.
func (c *Codec) Value(e Event) Event {
	for _, t := range c.types {
		if v, ok := t.value(e); ok {
			return v
		}
	}
	return e
}
