package domain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

// FieldError is one problem with one place of the input, by JSON path.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// FieldErrors are every problem found in one input (a flag file), in the order found. A
// flag file is validated as a whole, so that its author fixes everything in one round.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Field + ": " + fe.Detail
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets apperr classify the list as Invalid.
func (e FieldErrors) Unwrap() error {
	if len(e) == 0 {
		return nil
	}
	return apperr.InvalidField(e[0].Field, "%s", e[0].Detail)
}

// Add records a problem at field.
func (e *FieldErrors) Add(field, format string, args ...any) {
	e.addOnce(FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// AddErr records err, which names its own field when it is an *apperr.Error: prefix is
// put before that field and detailPrefix before its detail.
func (e *FieldErrors) AddErr(prefix, detailPrefix string, err error) {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		e.addOnce(FieldError{Field: strings.TrimSuffix(prefix, "."), Detail: detailPrefix + err.Error()})
		return
	}
	if strings.HasPrefix(ae.Field, "$evaluators") {
		// A shared rule is at fault, not the flag that uses it: report it once, at its place.
		e.addOnce(FieldError{Field: ae.Field, Detail: ae.Detail})
		return
	}
	e.addOnce(FieldError{Field: strings.TrimSuffix(prefix+ae.Field, "."), Detail: detailPrefix + ae.Detail})
}

func (e *FieldErrors) addOnce(fe FieldError) {
	for _, have := range *e {
		if have == fe {
			return
		}
	}
	*e = append(*e, fe)
}

func (e FieldErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
