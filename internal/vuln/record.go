package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ossf/osv-schema/bindings/go/osvschema"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// MaxRecordSize is the largest record ParseRecord accepts (and the largest zip member
// the importer reads).
const MaxRecordSize = 16 << 20

// maxIDLen bounds record ids and aliases; OSV ids are short ("GHSA-xxxx-xxxx-xxxx").
const maxIDLen = 256

// Record is one OSV vulnerability record as medguard keeps it.
type Record struct {
	ID         string
	Modified   time.Time // UTC, truncated to microseconds (what both databases keep)
	Published  time.Time // zero when absent
	Withdrawn  *time.Time
	Aliases    []string
	Related    []string
	Upstream   []string
	Summary    string
	Details    string
	Severity   Severity
	Affected   []Affected // entries with a package; GIT ranges kept for exact commit matches
	References []Reference
	Ecosystems []string // distinct affected ecosystems as written (with suffixes), sorted
	GitRanges  int      // GIT ranges in the record, which match only commits they name
	Raw        []byte   // canonical JSON of the whole record (keys sorted, compact)
}

// Reference is one entry of a record's references.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ParseRecord parses one OSV record: JSON, or OSV-as-YAML when name ends in .yaml or
// .yml. name names the place in errors ("all.zip!GO-2022-0001.json").
//
// Parsing uses the schema's protobuf bindings (protojson with DiscardUnknown), which
// accept every record of the Go, PyPI and crates.io exports and the osv.dev test
// records, and reject what the specification forbids: a modified time without time
// zone, a number where a string is required, a repeated key. Unknown fields and unknown
// enum values (a new range or reference type) are ignored. YAML is first converted to
// JSON, reading every scalar outside database_specific and ecosystem_specific as a
// string, so that a version written 1.10 stays "1.10".
func ParseRecord(data []byte, name string) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("vuln: %s: record of %d bytes exceeds %d bytes", name, len(data), MaxRecordSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lower := strings.ToLower(name)
	var err error
	if strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml") {
		data, err = yamlToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("vuln: %s: %w", name, err)
		}
	}
	var v osvschema.Vulnerability
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("vuln: %s: not a valid OSV record: %w", name, err)
	}
	raw, err := canonicalJSON(data)
	if err != nil {
		return nil, fmt.Errorf("vuln: %s: %w", name, err)
	}
	r, err := fromProto(&v)
	if err != nil {
		return nil, fmt.Errorf("vuln: %s: %w", name, err)
	}
	r.Raw = raw
	return r, nil
}

// fromProto checks the required fields and builds the Record.
func fromProto(v *osvschema.Vulnerability) (*Record, error) {
	if err := checkID(v.GetId()); err != nil {
		return nil, fmt.Errorf("id: %w", err)
	}
	r := &Record{
		ID:      v.GetId(),
		Summary: v.GetSummary(),
		Details: v.GetDetails(),
	}
	if v.GetModified() == nil {
		return nil, fmt.Errorf("record %s has no modified time", r.ID)
	}
	var err error
	if r.Modified, err = timeOf(v.GetModified()); err != nil {
		return nil, fmt.Errorf("record %s: modified: %w", r.ID, err)
	}
	if v.GetPublished() != nil {
		if r.Published, err = timeOf(v.GetPublished()); err != nil {
			return nil, fmt.Errorf("record %s: published: %w", r.ID, err)
		}
	}
	if v.GetWithdrawn() != nil {
		w, err := timeOf(v.GetWithdrawn())
		if err != nil {
			return nil, fmt.Errorf("record %s: withdrawn: %w", r.ID, err)
		}
		r.Withdrawn = &w
	}
	for _, list := range []struct {
		field string
		in    []string
		out   *[]string
	}{{"aliases", v.GetAliases(), &r.Aliases}, {"related", v.GetRelated(), &r.Related}, {"upstream", v.GetUpstream(), &r.Upstream}} {
		seen := map[string]bool{r.ID: true}
		for i, a := range list.in {
			if err := checkID(a); err != nil {
				return nil, fmt.Errorf("record %s: %s[%d]: %w", r.ID, list.field, i, err)
			}
			if !seen[a] {
				seen[a] = true
				*list.out = append(*list.out, a)
			}
		}
	}
	for _, ref := range v.GetReferences() {
		r.References = append(r.References, Reference{Type: ref.GetType().String(), URL: ref.GetUrl()})
	}
	ecos := map[string]bool{}
	for _, a := range v.GetAffected() {
		var ranges []Range
		for _, rg := range a.GetRanges() {
			switch rg.GetType() {
			case osvschema.Range_GIT:
				// Kept for exact commit matches (Affected.Evaluate); counted as ignored
				// for ordering.
				r.GitRanges++
			case osvschema.Range_SEMVER, osvschema.Range_ECOSYSTEM:
			default:
				continue
			}
			out := Range{Type: rg.GetType().String()}
			for _, e := range rg.GetEvents() {
				ev := Event{Introduced: e.GetIntroduced(), Fixed: e.GetFixed(), LastAffected: e.GetLastAffected(), Limit: e.GetLimit()}
				if ev != (Event{}) {
					out.Events = append(out.Events, ev)
				}
			}
			ranges = append(ranges, out)
		}
		pkg := a.GetPackage()
		if pkg.GetEcosystem() == "" || pkg.GetName() == "" {
			// An entry without package (GIT ranges only) cannot be matched by package.
			continue
		}
		ecos[pkg.GetEcosystem()] = true
		af := Affected{
			VulnID:    r.ID,
			Ecosystem: pkg.GetEcosystem(),
			Name:      pkg.GetName(),
			Ranges:    ranges,
			Versions:  append([]string(nil), a.GetVersions()...),
		}
		af.Compile()
		r.Affected = append(r.Affected, af)
	}
	for e := range ecos {
		r.Ecosystems = append(r.Ecosystems, e)
	}
	sort.Strings(r.Ecosystems)
	r.Severity = severityOf(v)
	return r, nil
}

// checkID rejects empty, over-long and whitespace- or control-character-bearing ids.
func checkID(id string) error {
	if id == "" {
		return errors.New("missing or empty")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("%d bytes, longer than %d", len(id), maxIDLen)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%q is not UTF-8", id)
	}
	for _, c := range id {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return fmt.Errorf("%q contains white space or control characters", id)
		}
	}
	return nil
}

// timeOf converts a protobuf timestamp to UTC with microsecond precision.
func timeOf(ts *timestamppb.Timestamp) (time.Time, error) {
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, err
	}
	return ts.AsTime().UTC().Truncate(time.Microsecond), nil
}

// canonicalJSON re-encodes a JSON document compactly with object keys sorted, keeping
// numbers as written.
func canonicalJSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("canonical JSON: data after the record")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// maxYAMLDepth bounds the nesting of YAML documents.
const maxYAMLDepth = 64

// yamlToJSON converts the first YAML document in data to JSON.
func yamlToJSON(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty YAML document")
		}
		return nil, fmt.Errorf("YAML: %w", err)
	}
	v, err := yamlValue(&doc, false, 0)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("YAML to JSON: %w", err)
	}
	return b.Bytes(), nil
}

// yamlValue converts a YAML node. Outside free-form objects (database_specific,
// ecosystem_specific) every scalar but null is a string, as the OSV schema has no
// other scalar fields there.
func yamlValue(n *yaml.Node, free bool, depth int) (any, error) {
	if depth > maxYAMLDepth {
		return nil, fmt.Errorf("YAML line %d: nested deeper than %d levels", n.Line, maxYAMLDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, errors.New("empty YAML document")
		}
		return yamlValue(n.Content[0], free, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("YAML line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("YAML line %d: duplicate key %q", k.Line, k.Value)
			}
			childFree := free || k.Value == "database_specific" || k.Value == "ecosystem_specific"
			x, err := yamlValue(val, childFree, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := yamlValue(c, free, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return nil, nil
		}
		if !free {
			return n.Value, nil
		}
		switch n.ShortTag() {
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, nil
			}
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
		}
		return n.Value, nil
	case yaml.AliasNode:
		return nil, fmt.Errorf("YAML line %d: aliases (*%s) are not supported", n.Line, n.Value)
	}
	return nil, fmt.Errorf("YAML line %d: unexpected node", n.Line)
}
