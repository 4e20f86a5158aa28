// Package problem carries errors that are safe to show to a client: a kind (which maps
// to an HTTP status or CLI exit code), a stable code that the message catalogues
// translate, an English message and, for validation, the field at fault. The internal
// cause, which may hold SQL or patient data, stays in Err and is only logged.
package problem

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/i18n"
)

// Kind classifies a problem.
type Kind int

// The kinds of problem.
const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthorized
	KindTooMany
)

// Error is a client-safe error.
type Error struct {
	Kind    Kind
	Code    string // stable, e.g. "invalid_field"; also the i18n key "error.<code>"
	Message string // English, safe to show
	// Msg says Message again as a catalogue key with its arguments, so that pages show
	// it in the reader's language; nil when Message has no key yet. The arguments are as
	// safe to show as Message: never a user-supplied value. (A pointer keeps Error
	// comparable.)
	Msg   *i18n.Message
	Field string // the input field at fault, if any
	Err   error  // internal cause, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing object (or one outside the caller's scope: the two are
// indistinguishable on purpose).
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: what + " not found"}
}

// Conflict reports a write that clashes with existing data.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

// Forbidden reports an action the caller's role does not allow.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(format string, args ...any) *Error {
	return &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(format, args...)}
}

// TooMany reports rate limiting or lockout.
func TooMany(format string, args ...any) *Error {
	return &Error{Kind: KindTooMany, Code: "too_many", Message: fmt.Sprintf(format, args...)}
}

// WithCode sets a more specific stable code.
func (e *Error) WithCode(code string) *Error {
	e.Code = code
	return e
}

// WithMsg names the catalogue key (and its arguments) that says Message in every
// language.
func (e *Error) WithMsg(key string, args ...any) *Error {
	m := i18n.M(key, args...)
	e.Msg = &m
	return e
}

// Required reports a missing value in field.
func Required(field string) *Error {
	return Invalid(field, "is required").WithMsg("error.msg.required")
}

// TooLong reports a value in field longer than max characters.
func TooLong(field string, max int) *Error {
	return Invalid(field, "is longer than %d characters", max).WithMsg("error.msg.too_long_chars", max)
}

// Text checks a text field: trimmed, present when required, at most max characters,
// UTF-8 without NUL. It returns the trimmed value. The domain packages share it.
func Text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", Required(field)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return "", Invalid(field, "is not valid text").WithMsg("error.msg.bad_text")
	case utf8.RuneCountInString(v) > max:
		return "", TooLong(field, max)
	}
	return v, nil
}

// NotDate reports a value in field that is not a calendar date.
func NotDate(field string) *Error {
	return Invalid(field, "is not a date (YYYY-MM-DD)").WithMsg("error.msg.not_date")
}

// OneOf reports a value in field outside the allowed codes.
func OneOf(field string, allowed ...string) *Error {
	list := strings.Join(allowed, ", ")
	return Invalid(field, "must be one of %s", list).WithMsg("error.msg.one_of", list)
}

// WithErr keeps err as the internal cause: it is logged, never shown.
func (e *Error) WithErr(err error) *Error {
	e.Err = err
	return e
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// KindOf returns the kind of err (KindInternal for errors that are not problems).
func KindOf(err error) Kind {
	if pe, ok := As(err); ok {
		return pe.Kind
	}
	return KindInternal
}
