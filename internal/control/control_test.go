package control

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const minimal = `name: demo
title: {zh-CN: 演示, en: Demo}
source: "S"
version: "1"
counted: {zh-CN: 一项, en: one item}
levels: [group, item]
nodes:
  - id: g
    level: group
    title: {zh-CN: 组, en: Group}
    children:
      - id: g.a
        level: item
        title: {zh-CN: 项, en: Item}
        text: {zh-CN: 应当如此。, en: It shall be so.}
        checks: [mfa.admins]
`

func TestParseMinimal(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	n, ok := c.Find("g.a")
	if !ok || n.Text.In("zh-CN") != "应当如此。" || n.Text.In("en") != "It shall be so." || n.Text.In("fr") != "It shall be so." {
		t.Fatalf("Find(g.a) = %+v, %v", n, ok)
	}
	if diff := cmp.Diff(map[string]int{"group": 1, "item": 1}, c.Counts()); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if got := c.Items(); len(got) != 1 || got[0].ID != "g.a" {
		t.Errorf("Items = %v", got)
	}
	if _, ok := c.Find("nope"); ok {
		t.Error("Find(nope) found a node")
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown top-level key", "version: \"1\"", "version: \"1\"\nauthor: x", "field author not found"},
		{"unknown node key", "        checks: [mfa.admins]", "        weight: 3", `unknown field "weight"`},
		{"unknown text key", "{zh-CN: 项, en: Item}", "{zh-CN: 项, en: Item, fr: Article}", `unknown field "fr"`},
		{"title without English", "title: {zh-CN: 演示, en: Demo}", "title: {zh-CN: 演示}", "title needs zh-CN and en"},
		{"bad name", "name: demo", "name: Demo!", "name"},
		{"duplicate id", "id: g.a", "id: g", `node "g" (line 12): id defined twice (first at line 8)`},
		{"level not of its depth", "level: item", "level: group", `node "g.a" (line 12): level "group", want "item" at depth 2`},
		{"leaf without text", "        text: {zh-CN: 应当如此。, en: It shall be so.}\n", "", `node "g.a" (line 12): text needs zh-CN and en`},
		{"leaf text in one language", "en: It shall be so.}", "en: \"\"}", "text needs zh-CN and en"},
		{"unknown check", "[mfa.admins]", "[mfa.everyone]", `unknown check "mfa.everyone"`},
		{"check twice", "[mfa.admins]", "[mfa.admins, mfa.admins]", "named twice"},
		{"bad id", "id: g.a", "id: \"g a\"", "id must be"},
		{"too deep", "levels: [group, item]", "levels: [group]", "deeper than the 1 levels"},
		{"no levels", "levels: [group, item]", "levels: []", "0 levels"},
		{"levels twice", "levels: [group, item]", "levels: [group, group]", "distinct"},
		{"two documents", "nodes:", "nodes: []\n---\nnodes:", "more than one"},
		{"no source", "source: \"S\"", "source: \"\"", "source must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, tt.old, tt.new, 1)
			if src == minimal {
				t.Fatalf("%q not in the minimal catalogue", tt.old)
			}
			_, err := Parse([]byte(src))
			if err == nil || !errors.Is(err, ErrCatalogue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want an ErrCatalogue with %q", err, tt.want)
			}
		})
	}
	if _, err := Parse(make([]byte, MaxFileSize+1)); err == nil {
		t.Error("Parse accepted a file over the size limit")
	}
}

// TestCatalogueFiles validates every embedded catalogue and checks that what its header
// says it counted is what it holds.
var gbt39725Counts = map[string]int{"part": 4, "area": 26, "item": 82}

func TestCatalogueFiles(t *testing.T) {
	want := map[string]map[string]int{
		"hipaa":    {"section": 5, "standard": 22, "specification": 43},
		"gbt39725": gbt39725Counts,
	}
	if !Embedded("mlps3") {
		t.Log("catalogues/mlps3.yaml is not merged yet: only the other catalogues are checked here (mlps3_count_test.go counts it)")
	}
	for _, c := range All() {
		if c.Name == "mlps3" {
			continue // counted by mlps3_count_test.go
		}
		t.Run(c.Name, func(t *testing.T) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expected counts for %s", c.Name)
			}
			if diff := cmp.Diff(w, c.Counts()); diff != "" {
				t.Errorf("Counts (-want +got):\n%s", diff)
			}
			for level, n := range w {
				for _, lang := range []string{c.Counted.EN, c.Counted.ZhCN} {
					if !strings.Contains(lang, strconv.Itoa(n)) {
						t.Errorf("the header's counted %q does not say %d (%s)", lang, n, level)
					}
				}
			}
		})
	}
	for _, name := range []string{"gbt39725", "hipaa"} {
		if _, ok := Get(name); !ok {
			t.Errorf("catalogue %s is not embedded", name)
		}
	}
}

// TestHIPAAComplete: every standard and implementation specification of 45 CFR
// 164.308–164.316, with required (R) or addressable (A) as in the regulation.
func TestHIPAAComplete(t *testing.T) {
	b, err := os.ReadFile("testdata/hipaa_sections.txt")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Get("hipaa")
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		id, ra := f[0], f[1]
		ids = append(ids, id)
		n, ok := c.Find(id)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if n.Required == nil || *n.Required != (ra == "R") {
			t.Errorf("%s: required = %v, want %s", id, n.Required, ra)
		}
	}
	c.Walk(func(n *Node, depth int) {
		if depth > 0 && !slices.Contains(ids, n.ID) {
			t.Errorf("%s is in the catalogue but not in testdata/hipaa_sections.txt", n.ID)
		}
	})
}

func TestMappings(t *testing.T) {
	s := Builtin()
	if len(s.Groups()) < 25 {
		t.Errorf("%d mapping groups, want at least 25", len(s.Groups()))
	}
	// Load validated every reference whose catalogue is embedded; references to mlps3
	// are only left out while catalogues/mlps3.yaml is not merged.
	if !Embedded("mlps3") {
		t.Log("catalogues/mlps3.yaml is absent: its references in mappings.yaml are skipped")
	}
	for _, g := range s.Groups() {
		for _, r := range g {
			c, ok := s.Get(r.Catalogue)
			if !ok {
				t.Fatalf("%s: no catalogue", r)
			}
			if _, ok := c.Find(r.ID); !ok {
				t.Errorf("%s: no node", r)
			}
		}
	}
	got := Mapped("hipaa", "164.312(d)")
	if !slices.Contains(got, Ref{"gbt39725", "tech.general.auth"}) || slices.Contains(got, Ref{"hipaa", "164.312(d)"}) {
		t.Errorf("Mapped(hipaa, 164.312(d)) = %v", got)
	}
}

// standIn is the embedded HIPAA catalogue and the small MLPS stand-in of testdata/set.
func standIn(t *testing.T, mappings string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, f := range []string{"catalogues/hipaa.yaml", "testdata/set/mlps3.yaml", mappings} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fsys[filepath.Base(f)] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestLoadWithStandIn(t *testing.T) {
	s, err := Load(standIn(t, "testdata/set/mappings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range s.All() {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"hipaa", "mlps3"}, names); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}
	// gbt39725 is not in this set: its reference is dropped, the rest of the group kept.
	if diff := cmp.Diff([]Ref{{"hipaa", "164.312(d)"}}, s.Mapped("mlps3", "8.1.4.1.d")); diff != "" {
		t.Errorf("Mapped(8.1.4.1.d) (-want +got):\n%s", diff)
	}
	want := []Ref{{"hipaa", "164.312(a)(2)(i)"}, {"hipaa", "164.312(d)"}}
	if diff := cmp.Diff(want, s.Mapped("mlps3", "8.1.4.1.a")); diff != "" {
		t.Errorf("Mapped(8.1.4.1.a) (-want +got):\n%s", diff)
	}
	want = []Ref{{"hipaa", "164.312(d)"}, {"mlps3", "8.1.4.1.d"}}
	if diff := cmp.Diff(want, s.ItemsWithCheck("mfa.admins")); diff != "" {
		t.Errorf("ItemsWithCheck(mfa.admins) (-want +got):\n%s", diff)
	}
	if got := s.ItemsWithCheck("nope"); got != nil {
		t.Errorf("ItemsWithCheck(nope) = %v", got)
	}
}

func TestLoadRejectsBadMappings(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"missing node", "groups:\n  - refs: [mlps3:8.1.4.1.z, hipaa:164.312(d)]\n", `no node "8.1.4.1.z"`},
		{"unknown catalogue", "groups:\n  - refs: [iso27001:A.5, hipaa:164.312(d)]\n", `no catalogue "iso27001"`},
		{"one reference", "groups:\n  - refs: [hipaa:164.312(d)]\n", "1 references"},
		{"one catalogue", "groups:\n  - refs: [hipaa:164.312(d), hipaa:164.312(b)]\n", "only within"},
		{"not a reference", "groups:\n  - refs: [hipaa, mlps3:8.1.4.1.a]\n", "not catalogue:id"},
		{"twice", "groups:\n  - refs: [hipaa:164.312(d), hipaa:164.312(d)]\n", "twice"},
		{"unknown key", "groups:\n  - refs: [hipaa:164.312(d), mlps3:8.1.4.1.a]\n    note: x\n", "field note not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := standIn(t, "testdata/set/mappings.yaml")
			fsys["mappings.yaml"] = &fstest.MapFile{Data: []byte(tt.yaml)}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want %q", err, tt.want)
			}
		})
	}
	fsys := standIn(t, "testdata/set/mappings.yaml")
	fsys["other.yaml"] = &fstest.MapFile{Data: []byte(minimal)}
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "file's name") {
		t.Errorf("Load of a catalogue not in Names = %v", err)
	}
}

func TestView(t *testing.T) {
	s, err := Load(standIn(t, "testdata/set/mappings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Get("mlps3")
	v := c.View("zh-CN", s)
	if v.Title != "网络安全等级保护第三级(测试用节选)" || len(v.Nodes) != 1 || v.Nodes[0].Children[0].Title != "身份鉴别" {
		t.Fatalf("View = %+v", v)
	}
	leaf := v.Nodes[0].Children[0].Children[1]
	want := NodeView{ID: "8.1.4.1.d", Level: "item", Title: "多因素鉴别", Text: "应采用两种或两种以上组合的鉴别技术对用户进行身份鉴别。",
		Checks: []string{"mfa.admins"}, Mapped: []string{"hipaa:164.312(d)"}, Children: []NodeView{}}
	if diff := cmp.Diff(want, leaf); diff != "" {
		t.Errorf("leaf (-want +got):\n%s", diff)
	}
	if en := c.View("en", nil); en.Nodes[0].Title != "Security computing environment" || en.Counts["item"] != 2 {
		t.Errorf("View(en) = %+v", en)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, name := range []string{"catalogues/hipaa.yaml", "testdata/set/mlps3.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrCatalogue) {
				t.Fatalf("error without ErrCatalogue: %v", err)
			}
			return
		}
		// What Parse accepts holds its promises.
		if len(c.Items()) == 0 {
			t.Fatal("a catalogue without items")
		}
		for _, n := range c.Items() {
			if n.Text.ZhCN == "" || n.Text.EN == "" {
				t.Fatalf("leaf %s without text", n.ID)
			}
		}
		total := 0
		for _, v := range c.Counts() {
			total += v
		}
		if total > MaxNodes || len(c.Levels) > MaxLevels {
			t.Fatalf("sizes over the limits: %d nodes, %d levels", total, len(c.Levels))
		}
	})
}
