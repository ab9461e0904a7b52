package account

import "github.com/multimedia-portal/multimedia/domain/internal/eventcodec"

// codec maps each stable type name to its event type. The names are written
// out, never derived from Go type names.
var codec = eventcodec.New(
	eventcodec.Errors{
		Unknown: func(eventType string) error { return &UnknownEventTypeError{Type: eventType} },
		Nil:     invalidArg("nil event"),
	},
	eventcodec.Type[AccountRegistered](AccountRegisteredType),
	eventcodec.Type[VerificationCodeIssued](VerificationCodeIssuedType),
	eventcodec.Type[VerificationCodeRejected](VerificationCodeRejectedType),
	eventcodec.Type[AccountVerified](AccountVerifiedType),
	eventcodec.Type[PasswordSetAtVerification](PasswordSetAtVerificationType),
	eventcodec.Type[LoggedIn](LoggedInType),
	eventcodec.Type[LoginFailed](LoginFailedType),
	eventcodec.Type[LoggedOut](LoggedOutType),
	eventcodec.Type[PasswordResetCompleted](PasswordResetCompletedType),
	eventcodec.Type[PasswordRehashed](PasswordRehashedType),
	eventcodec.Type[NewsletterSubscribed](NewsletterSubscribedType),
	eventcodec.Type[NewsletterUnsubscribed](NewsletterUnsubscribedType),
	eventcodec.Type[VideoDownloaded](VideoDownloadedType),
	eventcodec.Type[EmailClaimed](EmailClaimedType),
	eventcodec.Type[AccountErased](AccountErasedType),
	eventcodec.Type[EmailReleased](EmailReleasedType),
)

// EventTypes lists every registered type name, sorted, e.g. for a store's
// schema check or the audit API.
func EventTypes() []string { return codec.Names() }

// Decode turns a stored payload back into its event value (never a pointer).
// An unregistered type yields *UnknownEventTypeError.
func Decode(eventType string, data []byte) (Event, error) {
	return codec.Decode(eventType, data)
}

// Encode returns the stable type name and JSON payload of an event. Pointers
// to events are accepted; events of other packages are refused with
// *UnknownEventTypeError, and a nil event with ErrInvalidArgument.
func Encode(e Event) (eventType string, data []byte, err error) {
	return codec.Encode(e)
}

// Redacted is what Redact puts in place of a hash.
const Redacted = "[redacted]"

// Redact returns a copy of e without password or code hashes, for the audit
// API and logs: hashes are secrets too.
func Redact(e Event) Event {
	switch v := codec.Value(e).(type) {
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
	case PasswordSetAtVerification:
		v.PasswordHash = Redacted
		return v
	default:
		return v
	}
}
