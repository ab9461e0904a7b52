package eventcodec_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/domain/internal/eventcodec"
)

type opened struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
}

func (opened) EventType() string { return "Opened.v1" }

type closed struct {
	ID string `json:"id"`
}

func (closed) EventType() string { return "Closed.v1" }

// foreign is another package's event, even one that claims a registered name.
type foreign struct{ ID string }

func (foreign) EventType() string { return "Opened.v1" }

type stranger struct{}

func (stranger) EventType() string { return "Stranger.v1" }

var errUnknown = errors.New("unknown test event type")

func newCodec() *eventcodec.Codec {
	return eventcodec.New(eventcodec.Wrapping(errUnknown),
		eventcodec.Type[opened]("Opened.v1"),
		eventcodec.Type[closed]("Closed.v1"),
	)
}

func TestRoundTrip(t *testing.T) {
	c := newCodec()
	for _, e := range []eventcodec.Event{opened{ID: "a", Note: "hi"}, closed{ID: "a"}} {
		typ, data, err := c.Encode(e)
		if err != nil || typ != e.EventType() {
			t.Fatalf("Encode(%#v) = %q, %v", e, typ, err)
		}
		got, err := c.Decode(typ, data)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("Decode = %#v, %v; want %#v", got, err, e)
		}
	}
	typ, data, err := c.Encode(opened{ID: "a"})
	if err != nil || typ != "Opened.v1" || string(data) != `{"id":"a"}` {
		t.Fatalf("Encode = %q %s %v", typ, data, err)
	}
}

func TestPointersEncodeAsValues(t *testing.T) {
	c := newCodec()
	_, byValue, _ := c.Encode(closed{ID: "x"})
	typ, byPtr, err := c.Encode(&closed{ID: "x"})
	if err != nil || typ != "Closed.v1" || string(byPtr) != string(byValue) {
		t.Fatalf("Encode(pointer) = %q %s %v; want %s", typ, byPtr, err, byValue)
	}
	if got := c.Value(&closed{ID: "x"}); got != (closed{ID: "x"}) {
		t.Fatalf("Value(pointer) = %#v", got)
	}
	if got := c.Value(closed{ID: "x"}); got != (closed{ID: "x"}) {
		t.Fatalf("Value(value) = %#v", got)
	}
	if got := c.Value((*closed)(nil)); got != nil {
		t.Fatalf("Value(nil pointer) = %#v, want nil", got)
	}
	if got := c.Value(stranger{}); got != (stranger{}) {
		t.Fatalf("Value(unregistered) = %#v, want it unchanged", got)
	}
	if got := c.Value(nil); got != nil {
		t.Fatalf("Value(nil) = %#v", got)
	}
}

func TestErrorsWrapTheCallersSentinel(t *testing.T) {
	c := newCodec()
	_, err := c.Decode("Exploded.v1", []byte(`{}`))
	if !errors.Is(err, errUnknown) || !strings.Contains(err.Error(), `"Exploded.v1"`) {
		t.Fatalf("Decode(unknown) = %v", err)
	}
	if _, err := c.Decode("Opened.v1", []byte(`{not json`)); err == nil || errors.Is(err, errUnknown) || !strings.HasPrefix(err.Error(), "decode Opened.v1: ") {
		t.Fatalf("Decode(bad JSON) = %v", err)
	}
	for name, e := range map[string]eventcodec.Event{
		"foreign type with a registered name": foreign{ID: "a"},
		"unregistered type":                   stranger{},
		"pointer to an unregistered type":     &stranger{},
	} {
		if _, _, err := c.Encode(e); !errors.Is(err, errUnknown) {
			t.Errorf("Encode(%s) = %v, want errUnknown", name, err)
		}
	}
	for name, e := range map[string]eventcodec.Event{"nil": nil, "nil pointer": (*opened)(nil)} {
		if _, _, err := c.Encode(e); !errors.Is(err, errUnknown) || !strings.Contains(err.Error(), "nil event") {
			t.Errorf("Encode(%s) = %v, want errUnknown: nil event", name, err)
		}
	}
}

// unknownTypeError stands for a package's typed error, such as
// account.UnknownEventTypeError.
type unknownTypeError struct{ Type string }

func (e *unknownTypeError) Error() string { return "unknown: " + e.Type }

func TestCustomErrors(t *testing.T) {
	errNil := errors.New("invalid argument: nil event")
	c := eventcodec.New(eventcodec.Errors{
		Unknown: func(name string) error { return &unknownTypeError{Type: name} },
		Nil:     errNil,
	}, eventcodec.Type[opened]("Opened.v1"))
	var ue *unknownTypeError
	if _, err := c.Decode("Closed.v1", nil); !errors.As(err, &ue) || ue.Type != "Closed.v1" {
		t.Fatalf("Decode(unknown) = %v", err)
	}
	if _, _, err := c.Encode(closed{}); !errors.As(err, &ue) || ue.Type != "Closed.v1" {
		t.Fatalf("Encode(unregistered) = %v", err)
	}
	if _, _, err := c.Encode(nil); err != errNil {
		t.Fatalf("Encode(nil) = %v, want %v", err, errNil)
	}
}

func TestNames(t *testing.T) {
	got := newCodec().Names()
	if want := []string{"Closed.v1", "Opened.v1"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
}

func TestNewRefusesProgrammingErrors(t *testing.T) {
	for name, build := range map[string]func(){
		"name differs from EventType": func() {
			eventcodec.New(eventcodec.Wrapping(errUnknown), eventcodec.Type[opened]("Opened.v2"))
		},
		"name twice": func() {
			eventcodec.New(eventcodec.Wrapping(errUnknown), eventcodec.Type[opened]("Opened.v1"), eventcodec.Type[foreign]("Opened.v1"))
		},
		"empty name": func() {
			eventcodec.New(eventcodec.Wrapping(errUnknown), eventcodec.Type[opened](""))
		},
		"missing errors": func() {
			eventcodec.New(eventcodec.Errors{}, eventcodec.Type[opened]("Opened.v1"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("New did not panic")
				}
			}()
			build()
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newCodec()
	done := make(chan error)
	for i := range 8 {
		go func() {
			e := opened{ID: fmt.Sprint(i)}
			typ, data, err := c.Encode(e)
			if err == nil {
				var got eventcodec.Event
				got, err = c.Decode(typ, data)
				if err == nil && got != e {
					err = fmt.Errorf("got %#v, want %#v", got, e)
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
