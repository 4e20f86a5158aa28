package mask

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxJSONDepth bounds the nesting of JSON input.
const maxJSONDepth = 1000

// JSON masks a JSON document, or a stream of documents such as JSON Lines,
// from r and writes it to w with the same structure and key order: a
// value under a key named in the policy's columns is replaced whole by
// that column's method (for arrays, every element), every other string has
// its detected values masked. A number that is masked becomes a string.
// Documents are written one a line.
func (m *Masker) JSON(r io.Reader, w io.Writer, st *Stats) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	bw := bufio.NewWriter(w)
	j := &jsonMasker{m: m, dec: dec, w: bw, st: st}
	docs := 0
	for {
		err := j.value("", 0)
		if errors.Is(err, io.EOF) {
			if docs == 0 {
				return errors.New("mask: JSON: empty input")
			}
			break
		}
		if err != nil {
			return fmt.Errorf("mask: JSON at byte %d: %w", dec.InputOffset(), err)
		}
		docs++
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

type jsonMasker struct {
	m   *Masker
	dec *json.Decoder
	w   *bufio.Writer
	st  *Stats
}

// value copies one JSON value, masking it as under key.
func (j *jsonMasker) value(key string, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("nested deeper than %d", maxJSONDepth)
	}
	tok, err := j.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			j.w.WriteByte('{')
			for n := 0; j.dec.More(); n++ {
				kt, err := j.dec.Token()
				if err != nil {
					return noEOF(err)
				}
				k, ok := kt.(string)
				if !ok {
					return fmt.Errorf("object key %v is not a string", kt)
				}
				if n > 0 {
					j.w.WriteByte(',')
				}
				j.str(k)
				j.w.WriteByte(':')
				if err := j.value(k, depth+1); err != nil {
					return noEOF(err)
				}
			}
			if _, err := j.dec.Token(); err != nil {
				return noEOF(err)
			}
			j.w.WriteByte('}')
		case '[':
			j.w.WriteByte('[')
			for n := 0; j.dec.More(); n++ {
				if n > 0 {
					j.w.WriteByte(',')
				}
				if err := j.value(key, depth+1); err != nil {
					return noEOF(err)
				}
			}
			if _, err := j.dec.Token(); err != nil {
				return noEOF(err)
			}
			j.w.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %v", t)
		}
	case string:
		j.str(j.m.cell(key, t, j.st))
	case json.Number:
		s := t.String()
		if masked := j.m.cell(key, s, j.st); masked != s {
			j.str(masked)
		} else {
			j.w.WriteString(s)
		}
	case bool:
		j.w.WriteString(strconv.FormatBool(t))
	case nil:
		j.w.WriteString("null")
	}
	return nil
}

// noEOF turns an end of input inside a value into an error.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (j *jsonMasker) str(s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	j.w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
