// Package sbom owns reading software bills of materials: it detects and parses CycloneDX
// (JSON and XML, specs 1.0–1.7) and SPDX (JSON and tag-value, SPDX 2.1–2.3) documents from
// outside input into one neutral model — the document's subject, its flattened components
// with purl, CPE, hashes, one SPDX licence expression and supplier, the dependency graph —
// plus warnings for what is missing or doubtful. It touches no database.
//
// Decoding is done by the maintained libraries (github.com/CycloneDX/cyclonedx-go and
// github.com/spdx/tools-golang); this package detects the format, repairs a few cosmetic
// deviations found in SBOMs published by real projects (each repair is reported as a
// warning with code "repaired"), locates errors (line and column, or line for tag-value)
// and maps both models onto Document:
//
//   - The document's subject — CycloneDX metadata.component, the one package an SPDX
//     document describes — gives Name and Version and is not a component (an SPDX subject
//     that is the document's only package is also its one component).
//   - Components are flattened in document order; a nested CycloneDX component names its
//     enclosing component in Parent. A component without a ref gets "component-<n>"; one
//     that repeats an earlier ref is dropped when identical and renamed otherwise.
//   - A component's licences become one SPDX expression (see cycloneDXLicense; SPDX uses
//     licenseConcluded, else licenseDeclared); an invalid expression is kept with a warning.
//   - A purl is never guessed: a component without one gets a "missing_purl" warning.
//   - Dependencies only join known refs; unknown refs are dropped with a warning.
package sbom

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// MaxSize is the largest document, in bytes, that Parse accepts; bigger input is rejected.
const MaxSize = 64 << 20

// Format names a serialisation of an SBOM.
type Format string

// Formats Parse understands.
const (
	FormatCycloneDXJSON Format = "cyclonedx-json"
	FormatCycloneDXXML  Format = "cyclonedx-xml"
	FormatSPDXJSON      Format = "spdx-json"
	FormatSPDXTagValue  Format = "spdx-tag-value"
)

// Warning codes.
const (
	WarnMissingPURL          = "missing_purl"           // component without a purl (none is guessed)
	WarnInvalidPURL          = "invalid_purl"           // purl that does not parse; kept as declared
	WarnUnknownDependencyRef = "unknown_dependency_ref" // dependency naming no component; dropped
	WarnDuplicateRef         = "duplicate_ref"          // two components with one ref; the later one is renamed
	WarnInvalidLicense       = "invalid_license"        // licence expression that is not valid SPDX; kept as declared
	WarnMissingName          = "missing_name"           // component without a name
	WarnMissingRef           = "missing_ref"            // SPDX package without SPDXID; a ref is synthesised
	WarnInvalidHash          = "invalid_hash"           // hash value that is not hexadecimal; kept as declared
	WarnInvalidTimestamp     = "invalid_timestamp"      // creation time that does not parse; Created left zero
	WarnRepaired             = "repaired"               // a non-standard construct was repaired before decoding
	WarnTruncated            = "truncated"              // the document ends in the middle of a value
	WarnTooDeep              = "too_deep"               // components nested too deeply were ignored
)

// Document is one parsed SBOM in the neutral model.
type Document struct {
	Format      Format
	SpecVersion string // "1.4" for CycloneDX, "SPDX-2.3" for SPDX (as declared)
	Serial      string // CycloneDX serialNumber / SPDX documentNamespace
	Name        string // CycloneDX metadata.component name / SPDX described package (else document) name
	Version     string // CycloneDX metadata.component version / SPDX described package version ("" when absent)
	// SubjectRef is the bom-ref / SPDXID of the document's subject (metadata.component, the
	// described package); "" when none. Dependencies may start from it.
	SubjectRef   string
	Supplier     string    // metadata supplier/manufacturer name, "" when absent
	Created      time.Time // UTC; zero when absent
	Tools        []string
	Components   []Component // flattened, document order; nested CycloneDX components have Parent set
	Dependencies []Dependency
	Warnings     []Warning
}

// Component is one software component listed by a document.
type Component struct {
	Ref      string // bom-ref / SPDXID; synthesised ("component-<n>") when absent
	Parent   string // Ref of the enclosing component for nested CycloneDX components
	Type     string // "library", "application", "framework", "operating-system", "container", "file", ...
	Group    string
	Name     string
	Version  string
	PURL     string // as declared (trimmed); "" when absent
	CPE      string
	Hashes   []Hash
	License  string // one SPDX licence expression, "" when none / NOASSERTION / NONE
	Supplier string // supplier name without e-mail address
	Scope    string // CycloneDX scope, "" otherwise
}

// Hash is a digest of a component: Alg normalised ("SHA-1", "SHA-256", "SHA3-256", "MD5",
// "BLAKE2b-256", ...), Value lower-case hexadecimal.
type Hash struct{ Alg, Value string }

// Dependency says that the component Ref depends on (or, in SPDX, contains) the components
// DependsOn. Every ref is a component's Ref or the document's SubjectRef.
type Dependency struct {
	Ref       string
	DependsOn []string
}

// Warning reports something missing or doubtful in an otherwise readable document. Ref names
// the component concerned, "" for the document.
type Warning struct {
	Ref     string `json:"ref"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ParseError reports input that is not a readable SBOM, with the place where reading
// stopped: "line 3, column 14" for JSON, "line 12" for XML and tag-value, sometimes followed
// by the field concerned.
//
// Msg never quotes the document; what was found there (a line, a value, a library's
// message) is kept in Detail, which Error includes for the command line and the log and
// Safe leaves out for clients of the server.
type ParseError struct {
	Format Format // "" when the format could not be detected
	Place  string // "line 3, column 14", optionally followed by " (/json/pointer)"
	Msg    string // what is wrong, in words of the format: never a value from the input
	Detail string // what was found, quoted from the input or a library's message; may be ""
	Err    error  // underlying library error, if any
}

// Error returns "sbom: <format>: <place>: <msg>: <detail>", leaving out empty parts.
func (e *ParseError) Error() string {
	s := "sbom: " + e.text(e.Place)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Safe returns "<format>: <line and column>: <msg>": the error without the input quoted
// in Detail, without the JSON pointer of the place (whose keys may be the document's own)
// and without the package prefix. It is what a client of the server is shown.
func (e *ParseError) Safe() string { return e.text(safePlace(e.Place)) }

func (e *ParseError) text(place string) string {
	s := ""
	if e.Format != "" {
		s += string(e.Format) + ": "
	}
	if place != "" {
		s += place + ": "
	}
	return s + e.Msg
}

// safePlace keeps the line and column of a place and drops a JSON pointer.
func safePlace(place string) string {
	if strings.HasPrefix(place, "/") {
		return "document"
	}
	if i := strings.Index(place, " (/"); i >= 0 {
		return place[:i]
	}
	return place
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse detects the format of data from its content and parses it.
func Parse(data []byte) (*Document, error) {
	f, err := Detect(data)
	if err != nil {
		return nil, err
	}
	return ParseFormat(data, f)
}

// ParseFormat parses data as format f.
func ParseFormat(data []byte, f Format) (doc *Document, err error) {
	if len(data) > MaxSize {
		return nil, &ParseError{Format: f, Place: "input", Msg: fmt.Sprintf("document is %d bytes, more than the %d allowed", len(data), MaxSize)}
	}
	text, err := decodeText(data)
	if err != nil {
		return nil, &ParseError{Format: f, Place: "input", Msg: "the text cannot be read", Detail: err.Error(), Err: err}
	}
	// Last line of defence: a panic inside a decoding library must not take the caller
	// down. Root causes found by fuzzing are fixed in this package.
	defer func() {
		if r := recover(); r != nil {
			doc = nil
			err = &ParseError{Format: f, Place: "document", Msg: "internal error while decoding", Detail: fmt.Sprint(r),
				Err: fmt.Errorf("sbom: panic: %v\n%s", r, debug.Stack())}
		}
	}()
	switch f {
	case FormatCycloneDXJSON:
		return parseCycloneDXJSON(text)
	case FormatCycloneDXXML:
		return parseCycloneDXXML(text)
	case FormatSPDXJSON:
		return parseSPDXJSON(text)
	case FormatSPDXTagValue:
		return parseSPDXTagValue(text)
	}
	return nil, &ParseError{Format: f, Msg: "unknown format"}
}

// ErrNotSBOM is wrapped by the ParseError returned for input that is neither CycloneDX nor
// SPDX.
var ErrNotSBOM = errors.New("not a CycloneDX or SPDX document")
