package control

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Names lists the catalogues medguard ships, sorted.
var Names = []string{"gbt39725", "hipaa", "mlps3"}

// Ref names a node of a catalogue, written "catalogue:id".
type Ref struct {
	Catalogue string `json:"catalogue"`
	ID        string `json:"id"`
}

// String returns "catalogue:id".
func (r Ref) String() string { return r.Catalogue + ":" + r.ID }

// ParseRef reads "catalogue:id".
func ParseRef(s string) (Ref, error) {
	name, id, ok := strings.Cut(s, ":")
	if !ok || name == "" || id == "" {
		return Ref{}, fmt.Errorf("%w: reference %q is not catalogue:id", ErrCatalogue, s)
	}
	return Ref{Catalogue: name, ID: id}, nil
}

// Set is a validated collection of catalogues with their cross-mappings.
type Set struct {
	cats   []*Catalogue
	byName map[string]*Catalogue
	groups [][]Ref
}

type mappingsFile struct {
	Groups []struct {
		Refs []string `yaml:"refs"`
	} `yaml:"groups"`
}

// MappingsFile is the name of the cross-mappings file beside the catalogues.
const MappingsFile = "mappings.yaml"

// Load reads every *.yaml catalogue in the root of fsys and the cross-mappings of
// MappingsFile, if present. Each catalogue's name must be its file's name and one of
// Names. Every mapping reference must name an existing node, except references to a
// catalogue of Names that fsys does not hold (the MLPS file is written separately):
// those are left out of the set, and MissingRefs reports them.
func Load(fsys fs.FS) (*Set, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	s := &Set{byName: map[string]*Catalogue{}}
	var mappings []byte
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("control: %s: %w", f, err)
		}
		if f == MappingsFile {
			mappings = b
			continue
		}
		c, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if c.Name+".yaml" != f || !slices.Contains(Names, c.Name) {
			return nil, fmt.Errorf("%w: %s: name %q must be the file's name and one of %s", ErrCatalogue, f, c.Name, strings.Join(Names, ", "))
		}
		s.cats = append(s.cats, c)
		s.byName[c.Name] = c
	}
	slices.SortFunc(s.cats, func(a, b *Catalogue) int { return strings.Compare(a.Name, b.Name) })
	if mappings != nil {
		if s.groups, err = ParseMappings(mappings, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ParseMappings reads the cross-mappings file and checks it: only the key groups, each
// group of 2 to 20 distinct references catalogue:id of at least two catalogues, each
// naming a node that exists in s. A reference to a catalogue of Names that s lacks is
// dropped (with its group if fewer than two references remain).
func ParseMappings(data []byte, s *Set) ([][]Ref, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrCatalogue, MappingsFile}, args...)...)
	}
	if len(data) > MaxFileSize {
		return nil, bad("larger than %d bytes", MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var mf mappingsFile
	if err := dec.Decode(&mf); err != nil {
		return nil, bad("%v", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, bad("more than one YAML document")
	}
	var groups [][]Ref
	for i, g := range mf.Groups {
		if len(g.Refs) < 2 || len(g.Refs) > 20 {
			return nil, bad("group %d has %d references, want 2 to 20", i+1, len(g.Refs))
		}
		var refs []Ref
		cats := map[string]bool{}
		for _, raw := range g.Refs {
			r, err := ParseRef(raw)
			if err != nil {
				return nil, bad("group %d: %v", i+1, err)
			}
			if slices.Contains(refs, r) {
				return nil, bad("group %d: %s twice", i+1, r)
			}
			cats[r.Catalogue] = true
			c, ok := s.byName[r.Catalogue]
			switch {
			case !ok && slices.Contains(Names, r.Catalogue):
				continue // a shipped catalogue not in this set
			case !ok:
				return nil, bad("group %d: %s: no catalogue %q", i+1, r, r.Catalogue)
			}
			if _, ok := c.Find(r.ID); !ok {
				return nil, bad("group %d: %s: no node %q in %s", i+1, r, r.ID, r.Catalogue)
			}
			refs = append(refs, r)
		}
		if len(cats) < 2 {
			return nil, bad("group %d maps only within %s", i+1, g.Refs[0])
		}
		if len(refs) >= 2 {
			groups = append(groups, refs)
		}
	}
	return groups, nil
}

// All returns the catalogues sorted by name.
func (s *Set) All() []*Catalogue { return slices.Clone(s.cats) }

// Get returns the catalogue with the name.
func (s *Set) Get(name string) (*Catalogue, bool) {
	c, ok := s.byName[name]
	return c, ok
}

// Groups returns the cross-mapping groups.
func (s *Set) Groups() [][]Ref { return slices.Clone(s.groups) }

// Mapped returns the references mapped to catalogue:id by any group, without the node
// itself, each once, in the order of the mappings file.
func (s *Set) Mapped(catalogue, id string) []Ref {
	self := Ref{Catalogue: catalogue, ID: id}
	var out []Ref
	for _, g := range s.groups {
		if !slices.Contains(g, self) {
			continue
		}
		for _, r := range g {
			if r != self && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// ItemsWithCheck returns the nodes of every catalogue that name the automatic-evidence
// check, by catalogue name then file order.
func (s *Set) ItemsWithCheck(check string) []Ref {
	var out []Ref
	for _, c := range s.cats {
		c.Walk(func(n *Node, _ int) {
			if slices.Contains(n.Checks, check) {
				out = append(out, Ref{Catalogue: c.Name, ID: n.ID})
			}
		})
	}
	return out
}

//go:embed catalogues
var embedded embed.FS

var builtin = sync.OnceValues(func() (*Set, error) {
	sub, err := fs.Sub(embedded, "catalogues")
	if err != nil {
		return nil, err
	}
	return Load(sub)
})

// Builtin returns the embedded catalogues, parsed once. It panics if they are invalid,
// which the package's tests rule out.
func Builtin() *Set {
	s, err := builtin()
	if err != nil {
		panic(err)
	}
	return s
}

// All returns the embedded catalogues sorted by name.
func All() []*Catalogue { return Builtin().All() }

// Get returns the embedded catalogue with the name.
func Get(name string) (*Catalogue, bool) { return Builtin().Get(name) }

// Mapped returns the references mapped to catalogue:id in the embedded mappings.
func Mapped(catalogue, id string) []Ref { return Builtin().Mapped(catalogue, id) }

// ItemsWithCheck returns the embedded catalogues' nodes that name the check.
func ItemsWithCheck(check string) []Ref { return Builtin().ItemsWithCheck(check) }

// Embedded reports whether the embedded catalogues include the named file; tests use it
// to tell a catalogue not yet merged from a broken one.
func Embedded(name string) bool {
	_, err := fs.Stat(embedded, path.Join("catalogues", name+".yaml"))
	return err == nil
}
