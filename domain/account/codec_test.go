package account

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// allEvents has one filled-in value of every event type.
func allEvents() []Event {
	return []Event{
		AccountRegistered{AccountID: testID, Email: "jane@example.com", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Newsletter: true, RegisteredAt: t0},
		issued(PurposeVerifyEmail, "123456", t0),
		rejected(PurposeResetPassword, RejectedExpired, at(1)),
		verified(at(2)),
		PasswordSetAtVerification{AccountID: testID, PasswordHash: "$argon2id$chosen", At: at(2)},
		loggedIn("sess-1", at(3)),
		failed(at(4)),
		LoggedOut{AccountID: testID, SessionID: "sess-1", At: at(5)},
		PasswordResetCompleted{AccountID: testID, PasswordHash: "$argon2id$new", At: at(6)},
		PasswordRehashed{AccountID: testID, PasswordHash: "$argon2id$up", At: at(7)},
		NewsletterSubscribed{AccountID: testID, At: at(8)},
		NewsletterUnsubscribed{AccountID: testID, At: at(9)},
		VideoDownloaded{AccountID: testID, VideoID: "v-1", Format: "mp4-1080p", At: at(10)},
		EmailClaimed{AccountID: testID, At: at(11)},
		AccountErased{AccountID: testID, At: at(12)},
		EmailReleased{AccountID: testID, At: at(12)},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	events := allEvents()
	if got, want := len(events), len(EventTypes()); got != want {
		t.Fatalf("test covers %d event types, %d are registered", got, want)
	}
	for _, e := range events {
		t.Run(e.EventType(), func(t *testing.T) {
			typ, data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := typ, e.EventType(); got != want {
				t.Fatalf("type = %q, want %q", got, want)
			}
			if !strings.HasSuffix(typ, ".v1") {
				t.Fatalf("type %q has no version suffix", typ)
			}
			got, err := Decode(typ, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, e)
			}
			// A pointer encodes the same.
			ptr := reflect.New(reflect.TypeOf(e))
			ptr.Elem().Set(reflect.ValueOf(e))
			_, pdata, err := Encode(ptr.Interface().(Event))
			if err != nil || string(pdata) != string(data) {
				t.Fatalf("pointer encode = %s, %v; want %s", pdata, err, data)
			}
		})
	}
}

func TestEventJSONIsSnakeCase(t *testing.T) {
	for _, e := range allEvents() {
		_, data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			if k != strings.ToLower(k) {
				t.Errorf("%s: field %q is not snake_case", e.EventType(), k)
			}
		}
	}
	_, data, _ := Encode(issued(PurposeVerifyEmail, "123456", t0))
	for _, want := range []string{`"purpose":"verify_email"`, `"code_hash":"`, `"issued_at":"2026-04-19T09:00:00Z"`, `"expires_at":"2026-04-19T09:30:00Z"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
}

func TestDecodeUnknownType(t *testing.T) {
	_, err := Decode("AccountDeleted.v1", []byte(`{}`))
	var ue *UnknownEventTypeError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownEventType) || ue.Type != "AccountDeleted.v1" {
		t.Fatalf("error = %v, want *UnknownEventTypeError", err)
	}
	if _, err := Decode(AccountVerifiedType, []byte(`{not json`)); err == nil {
		t.Fatal("bad JSON: no error")
	}
	if _, _, err := Encode(foreignEvent{}); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("Encode(foreign) error = %v, want ErrUnknownEventType", err)
	}
	if _, _, err := Encode(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Encode(nil) error = %v, want ErrInvalidArgument", err)
	}
}

type foreignEvent struct{}

func (foreignEvent) EventType() string { return "Foreign.v1" }

func TestRedact(t *testing.T) {
	for _, e := range allEvents() {
		_, data, _ := Encode(Redact(e))
		for _, secret := range []string{"$argon2id", testHasher.Hash(testID, PurposeVerifyEmail, code("123456"))} {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s: redacted JSON %s still has a hash", e.EventType(), data)
			}
		}
	}
	if got, want := Redact(verified(t0)), Event(verified(t0)); got != want {
		t.Fatalf("Redact changed an event without secrets: %#v", got)
	}
}
