// Package apperr is the small error vocabulary every module speaks. The HTTP layer maps
// each Kind to a status in one table (platform/httpx); nothing else decides statuses.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds of error. Internal is the zero value: an error nobody classified is a bug.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	PreconditionFailed
	Unauthorized
	TooLarge
	Unavailable
)

// Error is a classified error with a message meant for the caller.
type Error struct {
	Kind   Kind
	Detail string // safe to show to the caller
	Field  string // JSON path of the offending input, when there is one
	Err    error  // cause, for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of the given kind.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// InvalidField returns an Invalid error that names the offending field by JSON path.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is classified as kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
