package eventstore

import (
	"errors"
	"fmt"
)

// ErrorCode tells what kind of failure an *Error is, so callers branch on a
// code rather than on message text.
type ErrorCode string

// The codes every adapter uses.
const (
	// ErrorCodeWrongExpectedVersion: the stream was not at the expected version.
	ErrorCodeWrongExpectedVersion ErrorCode = "wrong_expected_version"
	// ErrorCodeDuplicateEvent: an event id already stored, outside an exact re-append.
	ErrorCodeDuplicateEvent ErrorCode = "duplicate_event"
	// ErrorCodeInvalidStream: empty stream name or one over MaxStreamIDBytes.
	ErrorCodeInvalidStream ErrorCode = "invalid_stream"
	// ErrorCodeInvalidEvent: empty type, zero id, data or metadata not valid JSON.
	ErrorCodeInvalidEvent ErrorCode = "invalid_event"
	// ErrorCodeInvalidPosition: a position that cannot be parsed.
	ErrorCodeInvalidPosition ErrorCode = "invalid_position"
	// ErrorCodeInvalidArgument: another bad argument, such as a negative limit.
	ErrorCodeInvalidArgument ErrorCode = "invalid_argument"
	// ErrorCodeUnavailable: the store could not be reached.
	ErrorCodeUnavailable ErrorCode = "unavailable"
	// ErrorCodeStreamDeleted: the stream was deleted for good (an
	// EventStoreDB tombstone, or StreamExists on a soft-deleted stream); no
	// retry can succeed. The Postgres adapter never deletes streams.
	ErrorCodeStreamDeleted ErrorCode = "stream_deleted"
	// ErrorCodeOutcomeUnknown: the store timed the append out after it may
	// have written it (EventStoreDB's commit timeout). Re-append the same
	// events with the same NoStream or Exact condition to learn the
	// outcome: the same ids answer the original result. It also matches
	// ErrUnavailable, so callers that only retry transient failures keep
	// doing so.
	ErrorCodeOutcomeUnknown ErrorCode = "outcome_unknown"
	// ErrorCodePermissionDenied: the store refused the credentials it was
	// given for this call (EventStoreDB ACLs); no retry can succeed.
	ErrorCodePermissionDenied ErrorCode = "permission_denied"
)

// Error is the one error type of the port. Adapters wrap their driver's error
// in Err so errors.Is still reaches it.
type Error struct {
	Code    ErrorCode
	Message string
	// Stream is set for stream-scoped failures.
	Stream string
	// Expected and Actual are set for ErrorCodeWrongExpectedVersion; Actual is
	// NoStreamVersion when the stream does not exist.
	Expected ExpectedVersion
	Actual   int64
	Err      error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("eventstore: %s: %v", e.Message, e.Err)
	}
	return "eventstore: " + e.Message
}

// Unwrap returns the underlying driver error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrWrongExpectedVersion) and friends match on
// code. An outcome-unknown error also matches ErrUnavailable: it is
// transient too, only more precise.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Message != "" {
		return false
	}
	return t.Code == e.Code || (t.Code == ErrorCodeUnavailable && e.Code == ErrorCodeOutcomeUnknown)
}

// Sentinels for errors.Is; they match any *Error with the same code.
var (
	ErrWrongExpectedVersion = &Error{Code: ErrorCodeWrongExpectedVersion}
	ErrDuplicateEvent       = &Error{Code: ErrorCodeDuplicateEvent}
	ErrInvalidStream        = &Error{Code: ErrorCodeInvalidStream}
	ErrInvalidEvent         = &Error{Code: ErrorCodeInvalidEvent}
	ErrInvalidPosition      = &Error{Code: ErrorCodeInvalidPosition}
	ErrInvalidArgument      = &Error{Code: ErrorCodeInvalidArgument}
	ErrUnavailable          = &Error{Code: ErrorCodeUnavailable}
	ErrStreamDeleted        = &Error{Code: ErrorCodeStreamDeleted}
	ErrOutcomeUnknown       = &Error{Code: ErrorCodeOutcomeUnknown}
	ErrPermissionDenied     = &Error{Code: ErrorCodePermissionDenied}
)

// CodeOf returns the code of the *Error in err's chain, or "" if there is none.
func CodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
