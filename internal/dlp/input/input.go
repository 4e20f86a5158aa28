// Package input owns the conversion of outside input into UTF-8 text units
// for the dlp scanner: files, directory trees, stdin and archive members are
// sniffed, their character encoding (UTF-8, UTF-16, GBK/GB18030) detected and
// decoded, and their text extracted with awareness of the format (CSV/TSV,
// JSON, XML, HTML, logs, HL7 v2, DOCX/XLSX/PPTX, PDF). ZIP and gzip
// containers are opened recursively under Limits that defeat zip bombs, and
// member names that would escape an extraction directory are reported.
// Whatever cannot be read — encrypted, too big, binary, malformed — is
// reported as a Problem, never skipped silently.
package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/medguard/medguard/internal/filewalk"
	"github.com/medguard/medguard/internal/textenc"
)

// Kinds of Unit.
const (
	KindText = "text"
	KindLog  = "log"
	KindCSV  = "csv"
	KindTSV  = "tsv"
	KindJSON = "json"
	KindXML  = "xml"
	KindHTML = "html"
	KindHL7  = "hl7"
	KindDOCX = "docx"
	KindXLSX = "xlsx"
	KindPPTX = "pptx"
	KindPDF  = "pdf"
)

// Encodings reported in Unit.Encoding.
const (
	EncodingUTF8    = string(textenc.UTF8)
	EncodingUTF16LE = string(textenc.UTF16LE)
	EncodingUTF16BE = string(textenc.UTF16BE)
	EncodingGBK     = string(textenc.GBK)
	EncodingGB18030 = string(textenc.GB18030)
	// EncodingUnknown marks text that was neither valid UTF-8 nor clean
	// GB18030; each invalid byte was replaced by '?' so that offsets are
	// still offsets in the original bytes.
	EncodingUnknown = string(textenc.Unknown)
)

// Reasons a Problem begins with; a detail may follow after ": ".
const (
	ReasonUnreadable  = "unreadable"
	ReasonEncrypted   = "encrypted"
	ReasonTooBig      = "too big"
	ReasonZipBomb     = "zip bomb"
	ReasonTraversal   = "path traversal"
	ReasonTooDeep     = "too deep"
	ReasonTooMany     = "too many members"
	ReasonBinary      = "binary"
	ReasonUnsupported = "unsupported"
	ReasonMalformed   = "malformed"
)

// Unit is one scannable text: a file, an archive member or the text of an
// office document or PDF. Findings in Text are byte offsets in Text. For
// plain text, logs, CSV/TSV and HL7 in UTF-8, Text is the file's own bytes
// (HL7 segment separators \r become \n, which keeps offsets); for JSON, XML,
// HTML, office files and PDF, Text is the extracted text.
type Unit struct {
	// Path names the unit: "a.txt", or "a.zip!/b/c.docx" for a member.
	Path string
	// Kind is one of the Kind constants.
	Kind string
	// Text is valid UTF-8.
	Text []byte
	// Encoding is the character encoding the bytes were in (Encoding
	// constants); empty for extracted formats that carry their own.
	Encoding string
	// Columns holds the header of a CSV/TSV table.
	Columns []string

	field func(off int) string
}

// Field names the structural element of the unit that contains byte
// offset off of Text: the column name of a CSV/TSV cell, the segment and
// field of an HL7 message ("PID-5"), the JSON pointer of a JSON value
// ("/patient/name"), the element path of an XML text or attribute, the
// cell of a spreadsheet ("sheet1!B3"), the part of a document
// ("word/document.xml", "slide2"). It returns "" when there is none.
func (u Unit) Field(off int) string {
	if u.field == nil || off < 0 || off >= len(u.Text) {
		return ""
	}
	return u.field(off)
}

// Problem is an input, or part of one, that could not be scanned in full.
// Reason begins with one of the Reason constants.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// String returns "path: reason".
func (p Problem) String() string { return p.Path + ": " + p.Reason }

// Limits bound what reading one input may cost. A zero field takes the
// value of DefaultLimits.
type Limits struct {
	// MaxFileSize is the largest file read from disk or a reader.
	MaxFileSize int64
	// MaxMemberSize is the largest decompressed archive member, office
	// part or PDF stream.
	MaxMemberSize int64
	// MaxTotalExtracted bounds all bytes decompressed from one top-level
	// file, however deeply nested.
	MaxTotalExtracted int64
	// MaxDepth is the deepest container nesting opened: 1 opens a
	// top-level archive but no archive inside it.
	MaxDepth int
	// MaxMembers is the largest number of entries read from one archive.
	MaxMembers int
	// MaxRatio is the largest uncompressed/compressed size ratio accepted
	// for a member larger than 1 MiB.
	MaxRatio float64
}

// DefaultLimits returns the limits used for zero fields of Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize:       256 << 20,
		MaxMemberSize:     64 << 20,
		MaxTotalExtracted: 1 << 30,
		MaxDepth:          4,
		MaxMembers:        10000,
		MaxRatio:          200,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxMemberSize <= 0 {
		l.MaxMemberSize = d.MaxMemberSize
	}
	if l.MaxTotalExtracted <= 0 {
		l.MaxTotalExtracted = d.MaxTotalExtracted
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	return l
}

// Open reads path — a file, a directory tree walked recursively, or "-"
// for standard input — and calls yield for every text unit found. Files
// and members that cannot be scanned are returned as Problems. The error
// is non-nil only when path itself cannot be opened or yield fails (its
// error is returned as is, and reading stops).
func Open(path string, lim Limits, yield func(Unit) error) ([]Problem, error) {
	if path == "-" {
		return Read("-", os.Stdin, lim, yield)
	}
	lim = lim.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	d := &decoder{lim: lim, yield: yield}
	if !fi.IsDir() {
		err := d.file(path, fi)
		return d.problems, err
	}
	err = filewalk.Files(path, d.file, func(p string, err error) {
		if errors.Is(err, filewalk.ErrLinkToDir) {
			d.problem(p, ReasonUnsupported, "%v", err)
			return
		}
		d.problem(p, ReasonUnreadable, "%v", err)
	})
	return d.problems, err
}

// Read reads one input named name from r (at most Limits.MaxFileSize bytes)
// and calls yield for every text unit found; see Open.
func Read(name string, r io.Reader, lim Limits, yield func(Unit) error) ([]Problem, error) {
	lim = lim.withDefaults()
	d := &decoder{lim: lim, yield: yield}
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxFileSize+1))
	switch {
	case err != nil:
		d.problem(name, ReasonUnreadable, "%v", err)
	case int64(len(data)) > lim.MaxFileSize:
		d.problem(name, ReasonTooBig, "more than %d bytes", lim.MaxFileSize)
	default:
		err = d.decode(name, data, 0)
	}
	return d.problems, err
}

// Decode calls yield for every text unit in data, an input named name (the
// name's extension is a hint to its format; the content decides when it
// has none). Parts that cannot be scanned are returned as Problems; the
// error is yield's.
func Decode(name string, data []byte, lim Limits, yield func(Unit) error) ([]Problem, error) {
	lim = lim.withDefaults()
	d := &decoder{lim: lim, yield: yield}
	if int64(len(data)) > lim.MaxFileSize {
		d.problem(name, ReasonTooBig, "%d bytes > limit %d", len(data), lim.MaxFileSize)
		return d.problems, nil
	}
	err := d.decode(name, data, 0)
	return d.problems, err
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decoder carries the state of one Open, Read or Decode call.
type decoder struct {
	lim       Limits
	yield     func(Unit) error
	problems  []Problem
	extracted int64 // bytes decompressed from the current top-level file
}

func (d *decoder) problem(path, reason, format string, args ...any) {
	if format != "" {
		reason += ": " + fmt.Sprintf(format, args...)
	}
	d.problems = append(d.problems, Problem{Path: path, Reason: reason})
}

func (d *decoder) file(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		d.problem(path, ReasonUnsupported, "not a regular file (%s)", fi.Mode().Type())
		return nil
	}
	if fi.Size() > d.lim.MaxFileSize {
		d.problem(path, ReasonTooBig, "%d bytes > limit %d", fi.Size(), d.lim.MaxFileSize)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		d.problem(path, ReasonUnreadable, "%v", unwrapPath(err))
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, d.lim.MaxFileSize+1))
	f.Close()
	if err != nil {
		d.problem(path, ReasonUnreadable, "%v", unwrapPath(err))
		return nil
	}
	if int64(len(data)) > d.lim.MaxFileSize {
		d.problem(path, ReasonTooBig, "grew beyond limit %d while read", d.lim.MaxFileSize)
		return nil
	}
	d.extracted = 0
	return d.decode(path, data, 0)
}

// Magic numbers of the container formats.
const (
	magicZip      = "PK\x03\x04"
	magicZipEmpty = "PK\x05\x06"
	magicCDF      = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"
	magicPDF      = "%PDF-"
	magicGzip     = "\x1F\x8B"
)

// ext returns the lower-case extension of the last element of path.
func ext(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(base[i+1:])
}

// decode dispatches data, found at path at container depth depth.
func (d *decoder) decode(path string, data []byte, depth int) error {
	switch {
	case bytes.HasPrefix(data, []byte(magicZip)) || bytes.HasPrefix(data, []byte(magicZipEmpty)):
		return d.zip(path, data, depth)
	case bytes.HasPrefix(data, []byte(magicCDF)):
		if bytes.Contains(data, utf16le("EncryptionInfo")) || bytes.Contains(data, utf16le("EncryptedPackage")) {
			d.problem(path, ReasonEncrypted, "password-protected Office document")
		} else {
			d.problem(path, ReasonUnsupported, "OLE2 compound file (legacy Office format)")
		}
		return nil
	case bytes.HasPrefix(data, []byte(magicPDF)):
		return d.pdf(path, data, depth)
	case bytes.HasPrefix(data, []byte(magicGzip)):
		return d.gzip(path, data, depth)
	}
	text, enc, ok := toUTF8(data)
	if !ok {
		d.problem(path, ReasonBinary, "no text to scan")
		return nil
	}
	switch kind := textKind(ext(path), text); kind {
	case KindCSV, KindTSV:
		return d.yieldUnit(d.table(path, kind, text, enc))
	case KindJSON:
		return d.yieldUnit(d.json(path, text, enc))
	case KindXML:
		return d.yieldUnit(d.xml(path, text, enc))
	case KindHTML:
		return d.yieldUnit(Unit{Path: path, Kind: KindHTML, Text: stripMarkup(text), Encoding: enc})
	case KindHL7:
		return d.yieldUnit(hl7(path, text, enc))
	default:
		return d.yieldUnit(Unit{Path: path, Kind: kind, Text: text, Encoding: enc})
	}
}

func (d *decoder) yieldUnit(u Unit) error { return d.yield(u) }

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// textKind chooses the format of a text from its extension, else from its
// first non-blank bytes.
func textKind(ext string, text []byte) string {
	switch ext {
	case "csv":
		return KindCSV
	case "tsv", "tab":
		return KindTSV
	case "json", "jsonl", "ndjson", "geojson":
		return KindJSON
	case "xml", "xsd", "svg", "cda", "ccd", "xhtml":
		return KindXML
	case "html", "htm":
		return KindHTML
	case "hl7", "hl7v2", "er7":
		return KindHL7
	case "log", "out", "err":
		return KindLog
	case "txt", "text", "md", "sql", "yaml", "yml", "ini", "conf", "cfg", "properties", "go", "py", "java", "js", "c", "h", "sh":
		return KindText
	}
	head := bytes.TrimLeft(bytes.TrimPrefix(text, []byte("\uFEFF")), " \t\r\n\x0B")
	if len(head) > 512 {
		head = head[:512]
	}
	lower := bytes.ToLower(head)
	switch {
	case bytes.HasPrefix(head, []byte("MSH")) && len(head) > 8:
		return KindHL7
	case bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")):
		return KindHTML
	case bytes.HasPrefix(head, []byte("<?xml")):
		return KindXML
	}
	return KindText
}

// span names a byte range of an extracted text.
type span struct {
	start, end int
	name       string
}

// spanField returns a Unit.field function over sorted, disjoint spans.
func spanField(spans []span) func(int) string {
	if len(spans) == 0 {
		return nil
	}
	return func(off int) string {
		i := sort.Search(len(spans), func(i int) bool { return spans[i].end > off })
		if i < len(spans) && spans[i].start <= off {
			return spans[i].name
		}
		return ""
	}
}

// builder accumulates extracted text and the names of its parts.
type builder struct {
	text  []byte
	spans []span
	limit int // when > 0, full reports whether the text has outgrown it
}

// errTextLimit stops an extraction whose text outgrew the builder's limit.
var errTextLimit = errors.New("extracted text too big")

// full reports whether the text has outgrown the limit.
func (b *builder) full() bool { return b.limit > 0 && len(b.text) > b.limit }

// add appends s as a part named name (no span when name is empty).
func (b *builder) add(name string, s []byte) {
	start := len(b.text)
	b.text = appendValid(b.text, s)
	if name != "" && len(b.text) > start {
		b.spans = append(b.spans, span{start, len(b.text), name})
	}
}

func (b *builder) addString(s string) { b.text = append(b.text, s...) }

// newline ends the current line unless the text is empty or already ends
// with one.
func (b *builder) newline() {
	if n := len(b.text); n > 0 && b.text[n-1] != '\n' {
		b.text = append(b.text, '\n')
	}
}
