package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// json extracts the strings and numbers of a JSON text (or a sequence of
// JSON values, as in JSON Lines) with a streaming decoder. Each value
// directly inside an object is written on its own line after its key
// ("姓名: 张三"), so that keys give detectors context; the span of the value
// is named by its JSON pointer. A text that does not parse is scanned as
// plain text and reported as malformed.
func (d *decoder) json(path string, text []byte, enc string) Unit {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		ptrKey  string // key escaped for a JSON pointer
		index   int
	}
	var (
		stack []frame
		b     builder
		ptr   strings.Builder
	)
	pointer := func() string {
		ptr.Reset()
		frames := stack
		if len(frames) > maxPathDepth { // deep nesting: name the innermost levels
			frames = frames[len(frames)-maxPathDepth:]
			ptr.WriteString("/…")
		}
		for _, f := range frames {
			ptr.WriteByte('/')
			if f.obj {
				ptr.WriteString(f.ptrKey)
			} else {
				ptr.WriteString(strconv.Itoa(f.index))
			}
		}
		if ptr.Len() == 0 {
			return "/"
		}
		return ptr.String()
	}
	// value is called for every value; it advances the parent frame.
	after := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].obj {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	scalar := func(s string) {
		if n := len(stack); n > 0 && stack[n-1].obj {
			b.newline()
			b.add("", []byte(oneLine(stack[n-1].key)))
			b.addString(": ")
		} else {
			b.newline()
		}
		b.add(pointer(), []byte(s))
		b.newline()
		after()
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.problem(path, ReasonMalformed, "json: byte %d at %s: %v (scanned as text)", dec.InputOffset(), pointer(), err)
			return Unit{Path: path, Kind: KindText, Text: text, Encoding: enc}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{obj: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				after()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				stack[n-1].key = v
				stack[n-1].ptrKey = strings.ReplaceAll(strings.ReplaceAll(v, "~", "~0"), "/", "~1")
				stack[n-1].wantKey = false
				continue
			}
			scalar(v)
		case json.Number:
			scalar(string(v))
		default: // bool, nil
			after()
		}
	}
	return Unit{Path: path, Kind: KindJSON, Text: b.text, Encoding: enc, field: spanField(b.spans)}
}

// maxPathDepth is how many levels of nesting a field name shows; deeper
// values are named "/…/" and their innermost levels, which keeps naming
// linear in the size of the input.
const maxPathDepth = 32

// oneLine replaces line breaks and other control characters with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
}
