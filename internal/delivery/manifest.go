package delivery

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/problem"
)

// SchemaV1 is the schema of the manifests this package reads and writes.
const SchemaV1 = "medguard.delivery/v1"

// MaxManifestSize is the largest manifest ParseManifest reads, in bytes.
const MaxManifestSize = 4 << 20

// MaxArtifacts is the most artifacts a manifest may list.
const MaxArtifacts = 10000

// Signature algorithms.
const (
	AlgSM2SM3         = "SM2-SM3"
	AlgECDSASHA256    = "ECDSA-SHA256"
	AlgRSAPKCS1SHA256 = "RSA-PKCS1-SHA256"
	AlgEd25519        = "Ed25519"
)

// Manifest is a vendor's declaration of one delivery: what it contains and, optionally,
// who vouches for it.
type Manifest struct {
	Schema      string     `json:"schema"`
	Vendor      string     `json:"vendor"`
	Product     string     `json:"product"`
	Version     string     `json:"version"`
	DeliveryID  string     `json:"delivery_id"`
	DeliveredAt time.Time  `json:"delivered_at"`
	Artifacts   []Artifact `json:"artifacts"`
	Signature   *Signature `json:"signature,omitempty"`
}

// Artifact is one file of a delivery with its declared size and digests (lower-case hex).
type Artifact struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	SM3    string `json:"sm3,omitempty"`
}

// Signature is a signature over a manifest's canonical form. Certificate (PEM) is set for
// the X.509 algorithms, PublicKey (base64 of the raw key) for Ed25519; Value is base64.
type Signature struct {
	Algorithm   string `json:"algorithm"`
	Certificate string `json:"certificate,omitempty"`
	PublicKey   string `json:"public_key,omitempty"`
	Value       string `json:"value"`
}

// invalid returns the client-safe error for a bad manifest field; field is a path such as
// "artifacts[2].sha256" ("" for the document as a whole), made of the schema's names and
// indices only. Messages never quote the manifest: a value at fault is named by its place.
func invalid(field, format string, args ...any) *problem.Error {
	detail := fmt.Sprintf(format, args...)
	msg := detail
	if field != "" {
		msg = field + ": " + detail
	}
	// Pages label the field themselves: the catalogue message carries the detail alone
	// (English, as the manifest's own vocabulary is).
	return problem.Invalid(field, "%s", msg).WithCode("invalid_manifest").WithMsg("error.msg.manifest", detail)
}

// Canonical returns the bytes a signature covers: the text form described in the package
// documentation, with artifacts sorted by name. It does not check the manifest.
func (m *Manifest) Canonical() []byte {
	var b bytes.Buffer
	b.WriteString(SchemaV1 + "\n")
	for _, f := range [...][2]string{
		{"vendor", m.Vendor},
		{"product", m.Product},
		{"version", m.Version},
		{"delivery_id", m.DeliveryID},
		{"delivered_at", formatTime(m.DeliveredAt)},
	} {
		b.WriteString(f[0] + "\t" + f[1] + "\n")
	}
	for _, a := range sortedArtifacts(m.Artifacts) {
		b.WriteString("artifact\t" + a.Name + "\t" + strconv.FormatInt(a.Size, 10) + "\t" + a.SHA256 + "\t" + a.SM3 + "\n")
	}
	return b.Bytes()
}

// Marshal returns the manifest as indented JSON (two spaces, a final newline, non-ASCII
// text left as it is). It refuses a manifest that ParseManifest would refuse.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	out := *m
	out.DeliveredAt = m.DeliveredAt.UTC()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("delivery: marshal manifest: %w", err)
	}
	return b.Bytes(), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func sortedArtifacts(in []Artifact) []Artifact {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Artifact) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// validate checks everything ParseManifest checks after reading the JSON, so that a
// manifest built in code is held to the same rules before it is written, signed or
// verified.
func (m *Manifest) validate() error {
	switch m.Schema {
	case SchemaV1:
	case "":
		return invalid("schema", "required (%q)", SchemaV1)
	default:
		return invalid("schema", "unknown schema; this version reads %q", SchemaV1)
	}
	for _, f := range [...][2]string{
		{"vendor", m.Vendor},
		{"product", m.Product},
		{"version", m.Version},
		{"delivery_id", m.DeliveryID},
	} {
		if err := checkText(f[0], f[1]); err != nil {
			return err
		}
	}
	if m.DeliveredAt.IsZero() {
		return invalid("delivered_at", "required")
	}
	if y := m.DeliveredAt.UTC().Year(); y < 1970 || y > 9999 {
		return invalid("delivered_at", "year %d is out of range (1970 to 9999)", y)
	}
	if len(m.Artifacts) == 0 {
		return invalid("artifacts", "at least one artifact is required")
	}
	if len(m.Artifacts) > MaxArtifacts {
		return invalid("artifacts", "%d artifacts, more than the limit of %d", len(m.Artifacts), MaxArtifacts)
	}
	seen := make(map[string]int, len(m.Artifacts))
	for i, a := range m.Artifacts {
		field := fmt.Sprintf("artifacts[%d]", i)
		if err := checkName(field+".name", a.Name); err != nil {
			return err
		}
		if j, dup := seen[a.Name]; dup {
			return invalid(field+".name", "the name is listed twice (also artifacts[%d])", j)
		}
		seen[a.Name] = i
		if a.Size < 0 {
			return invalid(field+".size", "must not be negative")
		}
		if a.SHA256 == "" && a.SM3 == "" {
			return invalid(field, "no digest: sha256 and sm3 are expected, at least one is required")
		}
		if err := checkHex(field+".sha256", a.SHA256); err != nil {
			return err
		}
		if err := checkHex(field+".sm3", a.SM3); err != nil {
			return err
		}
	}
	if m.Signature != nil {
		if _, err := m.Signature.signer(); err != nil {
			return err
		}
	}
	return nil
}

// checkText checks a required one-line text field of the canonical form.
func checkText(field, s string) error {
	if s == "" {
		return invalid(field, "required")
	}
	return checkLine(field, s)
}

func checkLine(field, s string) error {
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return invalid(field, "must not contain a tab, newline or other control character (found one at byte %d)", i)
	}
	return nil
}

// checkName checks an artifact name: a clean relative slash path.
func checkName(field, name string) error {
	if name == "" {
		return invalid(field, "required")
	}
	if err := checkLine(field, name); err != nil {
		return err
	}
	switch {
	case strings.Contains(name, `\`):
		return invalid(field, "contains a backslash; use forward slashes")
	case strings.HasPrefix(name, "/"), len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]):
		return invalid(field, "is an absolute path; names are relative to the delivery")
	case slices.Contains(strings.Split(name, "/"), ".."):
		return invalid(field, "contains \"..\"; names must stay inside the delivery")
	case name == "." || !fs.ValidPath(name):
		return invalid(field, "is not a clean relative path (no \".\" or empty element, no trailing slash)")
	}
	return nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// checkHex checks an optional 256-bit digest in lower-case hex.
func checkHex(field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 64 {
		return invalid(field, "must be 64 hex digits, got %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			return invalid(field, "must be lower-case hex")
		default:
			return invalid(field, "not hex: bad character at position %d", i+1)
		}
	}
	return nil
}
