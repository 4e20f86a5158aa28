package sbom

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// builder assembles a Document from either library model.
type builder struct {
	doc *Document
	// index maps each component Ref to its position in doc.Components.
	index map[string]int
	// declared holds every ref the input declares, so synthesised refs never collide.
	declared     map[string]bool
	licenseValid map[string]bool
	depIndex     map[string]int
	depSeen      map[[2]string]bool
	warnedRef    map[string]bool
	warnedDup    map[string]bool
}

func newBuilder(f Format, spec string) *builder {
	return &builder{
		doc:          &Document{Format: f, SpecVersion: spec},
		index:        map[string]int{},
		declared:     map[string]bool{},
		licenseValid: map[string]bool{},
		depIndex:     map[string]int{},
		depSeen:      map[[2]string]bool{},
		warnedRef:    map[string]bool{},
		warnedDup:    map[string]bool{},
	}
}

func (b *builder) warn(ref, code, msg string) {
	b.doc.Warnings = append(b.doc.Warnings, Warning{Ref: ref, Code: code, Message: msg})
}

func quote(s string) string { return strconv.Quote(clip(s, 120)) }

// label names a component in messages: name@version, or its ref.
func label(c *Component) string {
	n := c.Name
	if c.Group != "" {
		n = c.Group + "/" + n
	}
	if n == "" {
		return "component " + quote(c.Ref)
	}
	if c.Version != "" {
		n += "@" + c.Version
	}
	return "component " + quote(n)
}

// uniqueRef returns want, or want with a suffix, such that it is neither declared
// elsewhere in the input nor already used.
func (b *builder) uniqueRef(want string, sep string, k int) string {
	for ; ; k++ {
		r := want + sep + strconv.Itoa(k)
		if !b.declared[r] {
			if _, used := b.index[r]; !used {
				return r
			}
		}
	}
}

// add appends c, whose hashes and licence are filled in, and returns its final ref. The
// warnings emitted about c since mark carry its declared ref and are given the final one.
// A component without a ref gets "component-<n>" (n its position). A
// component repeating an earlier component's ref is dropped when it is identical to it
// (syft lists some packages several times) and renamed "<ref>#<k>" otherwise.
func (b *builder) add(c Component, mark int) string {
	d := b.doc
	declared := c.Ref
	switch i, dup := b.index[c.Ref]; {
	case c.Ref == "":
		r := fmt.Sprintf("component-%d", len(d.Components)+1)
		if _, used := b.index[r]; used || b.declared[r] {
			r = b.uniqueRef(r, "-", 2)
		}
		c.Ref = r
	case dup && sameComponent(d.Components[i], c):
		d.Warnings = d.Warnings[:mark]
		if !b.warnedDup[c.Ref] {
			b.warnedDup[c.Ref] = true
			b.warn(c.Ref, WarnDuplicateRef, label(&c)+" is listed more than once with the same ref; kept once")
		}
		return c.Ref
	case dup:
		r := b.uniqueRef(c.Ref, "#", 2)
		b.warn(r, WarnDuplicateRef, fmt.Sprintf("%s repeats the ref %s of a different component; renamed %s (dependencies point to the first)", label(&c), quote(c.Ref), quote(r)))
		c.Ref = r
	}
	for i := mark; i < len(d.Warnings); i++ {
		if d.Warnings[i].Ref == declared {
			d.Warnings[i].Ref = c.Ref
		}
	}
	if c.Type == "" {
		c.Type = "library"
	}
	if c.Name == "" {
		b.warn(c.Ref, WarnMissingName, label(&c)+" has no name")
	}
	if c.PURL == "" {
		b.warn(c.Ref, WarnMissingPURL, label(&c)+" has no purl")
	} else if _, err := packageurl.FromString(c.PURL); err != nil {
		b.warn(c.Ref, WarnInvalidPURL, fmt.Sprintf("%s has an invalid purl %s: %v", label(&c), quote(c.PURL), err))
	}
	b.checkLicense(c.Ref, c.License)
	b.index[c.Ref] = len(d.Components)
	d.Components = append(d.Components, c)
	return c.Ref
}

// sameComponent compares everything but the ref and the parent.
func sameComponent(a, b Component) bool {
	a.Parent, b.Parent = "", ""
	if b.Type == "" {
		b.Type = "library"
	}
	return slices.Equal(a.Hashes, b.Hashes) && a.Type == b.Type && a.Group == b.Group && a.Name == b.Name &&
		a.Version == b.Version && a.PURL == b.PURL && a.CPE == b.CPE && a.License == b.License &&
		a.Supplier == b.Supplier && a.Scope == b.Scope
}

// known reports whether ref names a component or the document's subject.
func (b *builder) known(ref string) bool {
	if ref == "" {
		return false
	}
	if _, ok := b.index[ref]; ok {
		return true
	}
	return ref == b.doc.SubjectRef
}

// depend records that from depends on to; both must be known.
func (b *builder) depend(from, to string) {
	if from == to || b.depSeen[[2]string{from, to}] {
		return
	}
	b.depSeen[[2]string{from, to}] = true
	i, ok := b.depIndex[from]
	if !ok {
		i = len(b.doc.Dependencies)
		b.depIndex[from] = i
		b.doc.Dependencies = append(b.doc.Dependencies, Dependency{Ref: from})
	}
	b.doc.Dependencies[i].DependsOn = append(b.doc.Dependencies[i].DependsOn, to)
}

// dependency adds a dependency entry whose refs may be unknown: unknown refs are
// dropped with one warning each.
func (b *builder) dependency(from string, to []string) {
	if !b.known(from) {
		b.unknownRef(from)
		return
	}
	if _, ok := b.depIndex[from]; !ok {
		b.depIndex[from] = len(b.doc.Dependencies)
		b.doc.Dependencies = append(b.doc.Dependencies, Dependency{Ref: from})
	}
	for _, t := range to {
		t = strings.TrimSpace(t)
		if !b.known(t) {
			b.unknownRef(t)
			continue
		}
		b.depend(from, t)
	}
}

func (b *builder) unknownRef(ref string) {
	if b.warnedRef[ref] {
		return
	}
	b.warnedRef[ref] = true
	b.warn("", WarnUnknownDependencyRef, "dependency on unknown ref "+quote(ref)+" dropped")
}

// normalHashAlg maps an algorithm name, upper-cased without '-', '_' and spaces, to its
// normal form.
func normalHashAlg(key string) (string, bool) {
	switch key {
	case "MD2", "MD4", "MD5", "MD6", "BLAKE3", "ADLER32":
		return key, true
	case "SHA1", "SHA224", "SHA256", "SHA384", "SHA512":
		return "SHA-" + key[3:], true
	case "SHA3256", "SHA3384", "SHA3512":
		return "SHA3-" + key[4:], true
	case "BLAKE2B256", "BLAKE2B384", "BLAKE2B512":
		return "BLAKE2b-" + key[7:], true
	}
	return "", false
}

func algKey(alg string) string {
	b := make([]byte, 0, len(alg))
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c == '-' || c == '_' || c == ' ' || c == '\t':
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// hash normalises one digest; ok is false when it carries no value.
func (b *builder) hash(ref, alg, value string) (Hash, bool) {
	value = strings.TrimSpace(value)
	alg = strings.TrimSpace(alg)
	if value == "" {
		return Hash{}, false
	}
	if a, ok := normalHashAlg(algKey(alg)); ok {
		alg = a
	}
	if isHex(value) {
		value = strings.ToLower(value)
	} else {
		b.warn(ref, WarnInvalidHash, fmt.Sprintf("%s hash %s is not hexadecimal; kept as declared", alg, quote(value)))
	}
	return Hash{Alg: alg, Value: value}, true
}

func appendHash(hs []Hash, h Hash) []Hash {
	for _, x := range hs {
		if x == h {
			return hs
		}
	}
	return append(hs, h)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// partyName reduces a supplier, originator or author to its name: "Organization: X (mail)"
// and "X <mail>" give "X"; NOASSERTION gives "".
func partyName(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"Organization:", "Person:", "Tool:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			s = strings.TrimSpace(s[len(p):])
			break
		}
	}
	if strings.EqualFold(s, "NOASSERTION") || strings.EqualFold(s, "NONE") {
		return ""
	}
	// drop a trailing "(mail)" or "<mail>"
	for _, br := range [][2]byte{{'(', ')'}, {'<', '>'}} {
		if strings.HasSuffix(s, string(br[1])) {
			if i := strings.LastIndexByte(s, br[0]); i >= 0 && (strings.Contains(s[i:], "@") || strings.TrimSpace(s[i+1:len(s)-1]) == "") {
				s = strings.TrimSpace(s[:i])
			}
		}
	}
	return s
}

// created records the document's creation time, accepting the forms seen in real SBOMs.
func (b *builder) created(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04Z07:00",
		"2006-01-02",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			b.doc.Created = t.UTC()
			return
		}
	}
	b.warn("", WarnInvalidTimestamp, "creation time "+quote(s)+" is not a date and time; ignored")
}
