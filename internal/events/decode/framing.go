package decode

import (
	"bytes"
	"errors"
)

// MaxFrame is the largest syslog frame the split functions accept (RFC 5425 asks
// receivers to take at least 8,192 octets; audit messages with DICOM XML are larger).
const MaxFrame = 1 << 20

// ErrFrame is returned by the split functions on a stream that is not framed as RFC 6587
// says; the connection should be closed, since its framing cannot be recovered.
var ErrFrame = errors.New("decode: bad syslog framing")

// SplitOctetCounting is a bufio.SplitFunc for RFC 6587 §3.4.1 octet-counting framing
// (also RFC 5425 over TLS): "MSG-LEN SP SYSLOG-MSG", MSG-LEN in decimal without leading
// zero. Line ends between frames, which some senders add, are skipped. Give the
// bufio.Scanner a buffer of MaxFrame plus a few bytes (Scanner.Buffer).
func SplitOctetCounting(data []byte, atEOF bool) (int, []byte, error) {
	skip := 0
	for skip < len(data) && (data[skip] == '\n' || data[skip] == '\r') {
		skip++
	}
	rest := data[skip:]
	if len(rest) == 0 {
		return skip, nil, nil
	}
	n, digits := 0, 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		if digits == 0 && rest[0] == '0' {
			return 0, nil, ErrFrame
		}
		n = n*10 + int(rest[digits]-'0')
		digits++
		if n > MaxFrame {
			return 0, nil, ErrFrame
		}
	}
	if digits == len(rest) {
		if atEOF {
			return 0, nil, ErrFrame
		}
		return skip, nil, nil // need more
	}
	if digits == 0 || rest[digits] != ' ' || n == 0 {
		return 0, nil, ErrFrame
	}
	end := digits + 1 + n
	if len(rest) < end {
		if atEOF {
			return 0, nil, ErrFrame
		}
		return skip, nil, nil
	}
	return skip + end, rest[digits+1 : end], nil
}

// SplitNewline is a bufio.SplitFunc for RFC 6587 §3.4.2 non-transparent framing: each
// message ends with LF (a CR before it is dropped) or NUL, which some senders use. Empty
// frames are skipped; the last frame may end at EOF without a trailer.
func SplitNewline(data []byte, atEOF bool) (int, []byte, error) {
	start := 0
	for {
		i := indexLineEnd(data[start:])
		if i < 0 {
			break
		}
		frame := bytes.TrimSuffix(data[start:start+i], []byte{'\r'})
		if len(frame) > 0 {
			return start + i + 1, frame, nil
		}
		start += i + 1
	}
	if len(data)-start > MaxFrame {
		return 0, nil, ErrFrame
	}
	if atEOF && len(data) > start {
		frame := bytes.TrimSuffix(data[start:], []byte{'\r'})
		if len(frame) == 0 {
			return len(data), nil, nil
		}
		return len(data), frame, nil
	}
	return start, nil, nil
}

// SplitSyslog is a bufio.SplitFunc that accepts both framings of RFC 6587 on one stream,
// deciding per frame: a frame starting with a digit is octet-counted, one starting with
// '<' ends at the next LF or NUL.
func SplitSyslog(data []byte, atEOF bool) (int, []byte, error) {
	skip := 0
	for skip < len(data) && (data[skip] == '\n' || data[skip] == '\r' || data[skip] == 0) {
		skip++
	}
	if skip == len(data) {
		return skip, nil, nil
	}
	var (
		adv int
		tok []byte
		err error
	)
	if c := data[skip]; c >= '0' && c <= '9' {
		adv, tok, err = SplitOctetCounting(data[skip:], atEOF)
	} else {
		adv, tok, err = SplitNewline(data[skip:], atEOF)
	}
	if err != nil {
		return 0, nil, err
	}
	return skip + adv, tok, nil
}

// indexLineEnd is the index of the first LF or NUL in b, or -1: two vectorised byte
// searches (the NUL one only before the LF) instead of bytes.IndexAny's byte loop.
func indexLineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, 0)
	}
	if j := bytes.IndexByte(b[:i], 0); j >= 0 {
		return j
	}
	return i
}
