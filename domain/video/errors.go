package video

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the video domain; check them with errors.Is.
var (
	// ErrInvalid is matched by every *FieldError: an editor's input breaks
	// a rule (HTTP 400 naming the field).
	ErrInvalid = errors.New("invalid video")
	// ErrNotFound: no video was published under this id.
	ErrNotFound = errors.New("video not found")
	// ErrWithdrawn: the video was withdrawn; it can be neither changed nor
	// downloaded.
	ErrWithdrawn = errors.New("video was withdrawn")
	// ErrAlreadyPublished: a video with this id exists already.
	ErrAlreadyPublished = errors.New("video is already published")
	// ErrUnknownFormat is matched by *UnknownFormatError.
	ErrUnknownFormat = errors.New("video has no such format")
	// ErrUnknownEventType: a stored type name this package does not know.
	ErrUnknownEventType = errors.New("unknown video event type")
)

// FieldError names the input field that breaks a rule and says why.
type FieldError struct {
	// Field is the JSON name of the field, e.g. "formats[1].size_bytes".
	Field string
	// Reason is a stable machine-readable code such as "too_long".
	Reason string
	// Message says what is wrong, for people.
	Message string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: field %q: %s", ErrInvalid, e.Field, e.Message)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// UnknownFormatError says which format was asked for and which exist.
type UnknownFormatError struct {
	Format    string
	Available []string
}

// Error implements error.
func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("%s: %q (available: %s)", ErrUnknownFormat, e.Format, strings.Join(e.Available, ", "))
}

// Is makes errors.Is(err, ErrUnknownFormat) true.
func (e *UnknownFormatError) Is(target error) bool { return target == ErrUnknownFormat }

func fieldErr(field, reason, format string, args ...any) error {
	return &FieldError{Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
}
