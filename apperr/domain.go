package apperr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/article"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/domain/video"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// row gives the errors that match sentinel (errors.Is) their code, and
// the wording and details people see; build gets the error and the
// details a handler added (WithDetail).
type row struct {
	sentinel error
	code     Code
	build    func(err error, added map[string]any) *Error
}

// table is the one place domain errors and the event store port's errors
// get a code. The first row that matches wins, so a more specific error
// comes before a family it also belongs to (an unverified account's login
// is both ErrInvalidCredentials and ErrNotVerified and must read as the
// former).
var table = []row{
	{account.ErrWeakPassword, WeakPassword, func(err error, added map[string]any) *Error {
		e := &Error{Code: WeakPassword, Message: err.Error()}
		var pe *account.PasswordPolicyError
		if errors.As(err, &pe) {
			rules := make([]map[string]string, 0, len(pe.Violations))
			for _, v := range pe.Violations {
				rules = append(rules, map[string]string{"code": string(v.Code), "message": v.Message})
			}
			e.Message = "the password does not meet the password rule"
			e.Details = map[string]any{"field": fieldOr(added, "password"), "violations": rules}
		}
		return e
	}},
	{account.ErrInvalidEmail, InvalidEmail, func(err error, added map[string]any) *Error {
		var ee *account.EmailError
		if errors.As(err, &ee) {
			field := fieldOr(added, "email")
			return &Error{Code: InvalidEmail, Message: "field \"" + field + "\": " + ee.Message,
				Details: map[string]any{"field": field, "reason": ee.Reason}}
		}
		return &Error{Code: InvalidEmail, Message: err.Error()}
	}},
	{account.ErrTooManyAttempts, TooManyAttempts, func(err error, _ map[string]any) *Error {
		// Retry-After is the real wait: until enough of the hour's tries
		// leave the window, or, for a voided code, the resend interval.
		e := &Error{Code: TooManyAttempts, Message: "too many wrong codes; ask for a new code and try again later"}
		var ae *account.AttemptsError
		if errors.As(err, &ae) {
			e.RetryAfter = ae.Wait
		}
		return e
	}},
	// Every refused code reads the same, whatever the reason (wrong,
	// expired, none, unknown address).
	{account.ErrInvalidCode, InvalidCode, fixed(InvalidCode, "the code is wrong or has expired; check it or ask for a new one", "field", "code")},
	{account.ErrInvalidCredentials, InvalidCredentials, fixed(InvalidCredentials, "the email address or the password is wrong")},
	{account.ErrLoginDelayed, LoginDelayed, func(err error, _ map[string]any) *Error {
		e := &Error{Code: LoginDelayed, Message: err.Error()}
		var delayed *account.RetryAfterError
		if errors.As(err, &delayed) {
			e.RetryAfter = delayed.Wait
		}
		return e
	}},
	// Only a download needs a verified account.
	{account.ErrNotVerified, AccountNotVerified, fixed(AccountNotVerified,
		"only verified accounts can download: enter the verification code we emailed you, or ask for a new one", "reason", "account_not_verified")},
	{account.ErrInvalidArgument, InvalidArgument, same(InvalidArgument)},
	{download.ErrInvalidArgument, InvalidArgument, same(InvalidArgument)},
	// A command that needs the data key of an erased account (a download
	// or login racing the erasure): the account is gone.
	{account.ErrAccountErased, AccountErased, fixed(AccountErased, "the account was erased")},

	{video.ErrNotFound, VideoNotFound, func(err error, added map[string]any) *Error {
		if id, ok := added["video_id"].(string); ok {
			return &Error{Code: VideoNotFound, Message: "no video " + id, Details: map[string]any{"video_id": id}}
		}
		return &Error{Code: VideoNotFound, Message: err.Error()}
	}},
	{video.ErrWithdrawn, VideoWithdrawn, func(err error, added map[string]any) *Error {
		if id, ok := added["video_id"].(string); ok {
			return &Error{Code: VideoWithdrawn, Message: "video " + id + " was withdrawn", Details: map[string]any{"video_id": id}}
		}
		return &Error{Code: VideoWithdrawn, Message: err.Error()}
	}},
	{video.ErrUnknownFormat, UnknownFormat, func(err error, _ map[string]any) *Error {
		var uf *video.UnknownFormatError
		if errors.As(err, &uf) {
			return &Error{Code: UnknownFormat,
				Message: "field \"format\": this video has no format " + quote(uf.Format) + "; available: " + strings.Join(uf.Available, ", "),
				Details: map[string]any{"field": "format", "available": uf.Available}}
		}
		return &Error{Code: UnknownFormat, Message: err.Error()}
	}},
	{video.ErrInvalid, InvalidVideo, func(err error, _ map[string]any) *Error {
		var fe *video.FieldError
		if errors.As(err, &fe) {
			return fieldError(InvalidVideo, fe.Field, fe.Reason, fe.Message)
		}
		return &Error{Code: InvalidVideo, Message: err.Error()}
	}},
	{video.ErrAlreadyPublished, AlreadyPublished, same(AlreadyPublished)},

	{article.ErrNotFound, ArticleNotFound, same(ArticleNotFound)},
	{article.ErrWithdrawn, ArticleWithdrawn, same(ArticleWithdrawn)},
	{article.ErrInvalid, InvalidArticle, func(err error, _ map[string]any) *Error {
		var fe *article.FieldError
		if errors.As(err, &fe) {
			return fieldError(InvalidArticle, fe.Field, fe.Reason, fe.Message)
		}
		return &Error{Code: InvalidArticle, Message: err.Error()}
	}},
	{article.ErrAlreadyPublished, AlreadyPublished, same(AlreadyPublished)},

	// The event store port. A conflict that escaped a command's retries is
	// a conflict; a store that cannot serve (down, timed out with the
	// outcome unknown, or refusing the service's own credentials) is
	// unavailable: the client can only try again, and the log tells the
	// operator which; a deleted stream (EventStoreDB) is a thing that is
	// no longer there.
	{eventstore.ErrWrongExpectedVersion, Conflict, fixed(Conflict, "too many concurrent changes, try again")},
	{eventstore.ErrUnavailable, Unavailable, same(Unavailable)},
	{eventstore.ErrOutcomeUnknown, Unavailable, same(Unavailable)},
	{eventstore.ErrPermissionDenied, Unavailable, same(Unavailable)},
	{eventstore.ErrStreamDeleted, NotFound, fixed(NotFound, "what this request is about was deleted")},
}

// lookup returns the first row err matches, or nil.
func lookup(err error) *row {
	for i := range table {
		if errors.Is(err, table[i].sentinel) {
			return &table[i]
		}
	}
	return nil
}

// same builds an *Error of code with err's own text.
func same(code Code) func(error, map[string]any) *Error {
	return func(err error, _ map[string]any) *Error { return &Error{Code: code, Message: err.Error()} }
}

// fixed builds an *Error of code with a fixed message and, optionally, one
// detail (key, value).
func fixed(code Code, message string, detail ...string) func(error, map[string]any) *Error {
	return func(error, map[string]any) *Error {
		e := &Error{Code: code, Message: message}
		if len(detail) == 2 {
			e.Details = map[string]any{detail[0]: detail[1]}
		}
		return e
	}
}

func fieldError(code Code, field, reason, message string) *Error {
	return &Error{Code: code, Message: fmt.Sprintf("field %q: %s", field, message), Details: map[string]any{"field": field, "reason": reason}}
}

// fieldOr is the request field a handler named (WithDetail(err, "field",
// ...)), or def.
func fieldOr(added map[string]any, def string) string {
	if f, ok := added["field"].(string); ok {
		return f
	}
	return def
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}
