package article

import (
	"errors"
	"fmt"
)

// Sentinel errors of the article domain; check them with errors.Is.
var (
	// ErrInvalid is matched by every *FieldError (HTTP 400 naming the field).
	ErrInvalid = errors.New("invalid article")
	// ErrNotFound: no article was published under this id.
	ErrNotFound = errors.New("article not found")
	// ErrWithdrawn: the article was withdrawn and can no longer be changed.
	ErrWithdrawn = errors.New("article was withdrawn")
	// ErrAlreadyPublished: an article with this id exists already.
	ErrAlreadyPublished = errors.New("article is already published")
	// ErrSlugTaken: the slug belongs to another article.
	ErrSlugTaken = errors.New("slug is taken by another article")
	// ErrUnknownEventType: a stored type name this package does not know.
	ErrUnknownEventType = errors.New("unknown article event type")
)

// FieldError names the input field that breaks a rule and says why.
type FieldError struct {
	// Field is the JSON name of the field, e.g. "tags[2]".
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

func fieldErr(field, reason, format string, args ...any) error {
	return &FieldError{Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
}
