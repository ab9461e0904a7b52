package account

import (
	"encoding/json"
	"fmt"
	"slices"
)

// decoders maps each stable type name to a function that decodes its JSON
// payload. The names are written out, never derived from Go type names.
var decoders = map[string]func([]byte) (Event, error){
	AccountRegisteredType:        decodeAs[AccountRegistered],
	VerificationCodeIssuedType:   decodeAs[VerificationCodeIssued],
	VerificationCodeRejectedType: decodeAs[VerificationCodeRejected],
	AccountVerifiedType:          decodeAs[AccountVerified],
	LoggedInType:                 decodeAs[LoggedIn],
	LoginFailedType:              decodeAs[LoginFailed],
	LoggedOutType:                decodeAs[LoggedOut],
	PasswordResetCompletedType:   decodeAs[PasswordResetCompleted],
	PasswordRehashedType:         decodeAs[PasswordRehashed],
	NewsletterSubscribedType:     decodeAs[NewsletterSubscribed],
	NewsletterUnsubscribedType:   decodeAs[NewsletterUnsubscribed],
	VideoDownloadedType:          decodeAs[VideoDownloaded],
	EmailClaimedType:             decodeAs[EmailClaimed],
}

func decodeAs[T Event](data []byte) (Event, error) {
	var e T
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}

// EventTypes lists every registered type name, sorted, e.g. for a store's
// schema check or the audit API.
func EventTypes() []string {
	names := make([]string, 0, len(decoders))
	for name := range decoders {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Decode turns a stored payload back into its event value (never a pointer).
// An unregistered type yields *UnknownEventTypeError.
func Decode(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, &UnknownEventTypeError{Type: eventType}
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// Encode returns the stable type name and JSON payload of an event. Pointers
// to events are accepted; events of other packages are refused.
func Encode(e Event) (eventType string, data []byte, err error) {
	e = deref(e)
	if e == nil {
		return "", nil, invalidArg("nil event")
	}
	eventType = e.EventType()
	if _, ok := decoders[eventType]; !ok {
		return "", nil, &UnknownEventTypeError{Type: eventType}
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return eventType, data, nil
}

// Redacted is what Redact puts in place of a hash.
const Redacted = "[redacted]"

// Redact returns a copy of e without password or code hashes, for the audit
// API and logs: hashes are secrets too.
func Redact(e Event) Event {
	switch v := deref(e).(type) {
	case AccountRegistered:
		v.PasswordHash = Redacted
		return v
	case VerificationCodeIssued:
		v.CodeHash = Redacted
		return v
	case PasswordResetCompleted:
		v.PasswordHash = Redacted
		return v
	case PasswordRehashed:
		v.PasswordHash = Redacted
		return v
	default:
		return v
	}
}

// deref turns a pointer to one of this package's events into its value, so
// that callers may pass either.
func deref(e Event) Event {
	switch v := e.(type) {
	case *AccountRegistered:
		return derefPtr(v)
	case *VerificationCodeIssued:
		return derefPtr(v)
	case *VerificationCodeRejected:
		return derefPtr(v)
	case *AccountVerified:
		return derefPtr(v)
	case *LoggedIn:
		return derefPtr(v)
	case *LoginFailed:
		return derefPtr(v)
	case *LoggedOut:
		return derefPtr(v)
	case *PasswordResetCompleted:
		return derefPtr(v)
	case *PasswordRehashed:
		return derefPtr(v)
	case *NewsletterSubscribed:
		return derefPtr(v)
	case *NewsletterUnsubscribed:
		return derefPtr(v)
	case *VideoDownloaded:
		return derefPtr(v)
	case *EmailClaimed:
		return derefPtr(v)
	default:
		return e
	}
}

func derefPtr[T Event](p *T) Event {
	if p == nil {
		return nil
	}
	return *p
}
