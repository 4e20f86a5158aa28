// Package decode turns the audit records of hospital systems, as they arrive over the wire,
// into normalized events.Event values: syslog lines (RFC 5424 and RFC 3164, carrying JSON,
// key=value or a DICOM audit message), FHIR R4 AuditEvent resources and Bundles (IHE BALP),
// and DICOM PS3.15 A.5 audit messages. The decoders are pure: no storage, no network.
//
// Errors never quote the input (it may carry patient data): they say what is wrong and
// where, not what the value was.
package decode

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// ErrInvalid is wrapped by every decoding error caused by bad input.
var ErrInvalid = errors.New("decode: invalid input")

// MaxInput is the largest input, in bytes, a decoder accepts in one call.
const MaxInput = 16 << 20

// Decoder holds the assumptions a decoder needs where the input does not say: the time
// zone of timestamps without one (RFC 3164 stamps, DICOM EventDateTime without offset)
// and the clock that supplies the year of RFC 3164 stamps. The zero Decoder uses the
// local time zone and the receiver's clock.
type Decoder struct {
	// Location is the zone of timestamps that carry none; nil means time.Local.
	Location *time.Location
	// Now is the receiver's clock; nil means time.Now. RFC 3164 stamps have no year: the
	// year is Now's, or the year before when that would put the stamp more than a day in
	// the future (a December message received in January).
	Now func() time.Time
}

func (d Decoder) loc() *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.Local
}

func (d Decoder) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// invalid builds an input error. The message must be a fixed text (no input values).
func invalid(msg string) error { return &inputError{msg: msg} }

type inputError struct{ msg string }

func (e *inputError) Error() string { return "decode: " + e.msg }
func (e *inputError) Unwrap() error { return ErrInvalid }

// digestID is the event id of a record whose format carries none (DICOM audit messages,
// syslog lines without an id): the same record received twice is the same event.
func digestID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}
