package apperr

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Code is a stable, machine-readable error code: what a client can act on.
// The codes are listed in codes.go.
type Code string

// Error is the application error: a code, a message for people, optional
// details (which field, which rule) and an optional wait (Retry-After).
type Error struct {
	// Code says what kind of failure this is; httpapi gives each code its
	// HTTP status.
	Code Code
	// Message says what is wrong, for people; it never holds a secret.
	// Internal and Unavailable messages are not shown to clients unless
	// the *Error was built for them (see Public).
	Message string
	// Details are extra machine-readable facts (field, reason, ...).
	Details map[string]any
	// RetryAfter, when positive, is how long to wait before trying again.
	RetryAfter time.Duration
	// Err is the cause, for errors.Is/As and the log.
	Err error
}

// Error returns the message, or the cause's text when there is none.
func (e *Error) Error() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Code)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of code with message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf returns an error of code whose message is formatted; a %w verb
// makes the wrapped error its cause.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: err.Error()}
	switch err.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		e.Err = err // the %w causes, for errors.Is/As
	}
	return e
}

// Wrap returns an error of code with message, caused by err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// WithDetails returns a copy of e with details added (e itself, often a
// shared sentinel, is left alone).
func (e *Error) WithDetails(details map[string]any) *Error {
	c := *e
	c.Details = maps.Clone(e.Details)
	if c.Details == nil {
		c.Details = map[string]any{}
	}
	maps.Copy(c.Details, details)
	return &c
}

// Public reports whether err is an *Error built for the client (at the top
// of the chain, without a cause): its message is shown even for an
// Internal or Unavailable code, whose other messages go to the log only.
func Public(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Err == nil
}

// CodeOf returns the code From gives err ("" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return From(err).Code
}

// detailError carries a detail a caller added with WithDetail.
type detailError struct {
	key   string
	value any
	err   error
}

func (d *detailError) Error() string { return d.err.Error() }
func (d *detailError) Unwrap() error { return d.err }

// WithDetail tells From which request field or resource err is about
// ("field", "new_password"; "video_id", id), for the table's wording of
// domain errors (domain.go); err's code is unchanged, and the detail is
// not copied into the reply on its own. It returns nil for a nil err.
func WithDetail(err error, key string, value any) error {
	if err == nil {
		return nil
	}
	return &detailError{key: key, value: value, err: err}
}

// addedDetails collects the WithDetail details on err's chain, outermost
// first winning.
func addedDetails(err error) map[string]any {
	var out map[string]any
	for err != nil {
		if d, ok := err.(*detailError); ok {
			if out == nil {
				out = map[string]any{}
			}
			if _, set := out[d.key]; !set {
				out[d.key] = d.value
			}
		}
		err = errors.Unwrap(err)
	}
	return out
}

// From returns err as an *Error: the *Error on its chain (with the whole
// chain's text as its message), else the row of the domain and event
// store table (domain.go) that matches, worded with what WithDetail
// added, else Internal. It returns nil for nil.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var out *Error
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Message = err.Error()
		c.Err = err
		c.Details = maps.Clone(e.Details)
		out = &c
	} else if row := lookup(err); row != nil {
		out = row.build(err, addedDetails(err))
		out.Err = err
	} else {
		out = &Error{Code: Internal, Message: "internal error", Err: err}
	}
	return out
}
