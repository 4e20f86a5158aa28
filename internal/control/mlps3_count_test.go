package control

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// The MLPS level-3 catalogue (GB/T 22239-2019, clause 8.1) as counted against the
// standard's own structure and stated in the catalogue's header.
const (
	mlpsWantCategories = 10
	mlpsWantControls   = 71
	mlpsWantItems      = 211
)

// mlpsFile is the catalogue file read on its own, independently of the package's loader,
// so that a loader bug cannot hide a gap in the data.
type mlpsFile struct {
	Name    string            `yaml:"name"`
	Title   map[string]string `yaml:"title"`
	Source  string            `yaml:"source"`
	Version string            `yaml:"version"`
	Counted map[string]string `yaml:"counted"`
	Levels  []string          `yaml:"levels"`
	Nodes   []mlpsNode        `yaml:"nodes"`
}

type mlpsNode struct {
	ID       string            `yaml:"id"`
	Level    string            `yaml:"level"`
	Title    map[string]string `yaml:"title"`
	Text     map[string]string `yaml:"text"`
	Checks   []string          `yaml:"checks"`
	Children []mlpsNode        `yaml:"children"`
}

// mlpsChecks are the automatic-evidence checks the platform runs.
var mlpsChecks = map[string]bool{
	"mfa.admins": true, "events.retention": true, "trail.chain": true, "vuln.sla": true,
	"dlp.scans": true, "incident.clocks": true, "training.completion": true,
	"delivery.verified": true, "dataflow.register": true, "policy.reviews": true,
}

var mlpsLangs = []string{"zh-CN", "en"}

func mlpsRead(t *testing.T) mlpsFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("catalogues", "mlps3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f mlpsFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("mlps3.yaml: %v", err)
	}
	return f
}

func TestMLPS3Categories(t *testing.T) {
	f := mlpsRead(t)
	type cat struct{ ID, ZH, EN string }
	want := []cat{
		{"8.1.1", "安全物理环境", "Physical environment security"},
		{"8.1.2", "安全通信网络", "Communication network security"},
		{"8.1.3", "安全区域边界", "Area boundary security"},
		{"8.1.4", "安全计算环境", "Computing environment security"},
		{"8.1.5", "安全管理中心", "Security management centre"},
		{"8.1.6", "安全管理制度", "Security management policies"},
		{"8.1.7", "安全管理机构", "Security management organisation"},
		{"8.1.8", "安全管理人员", "Security management personnel"},
		{"8.1.9", "安全建设管理", "Security construction management"},
		{"8.1.10", "安全运维管理", "Security operations and maintenance management"},
	}
	var got []cat
	for _, n := range f.Nodes {
		got = append(got, cat{n.ID, n.Title["zh-CN"], n.Title["en"]})
	}
	if len(want) != mlpsWantCategories {
		t.Fatalf("test tables disagree: %d categories listed, %d wanted", len(want), mlpsWantCategories)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("categories (-want +got):\n%s", d)
	}
}

func TestMLPS3Header(t *testing.T) {
	f := mlpsRead(t)
	if f.Name != "mlps3" || f.Source != "GB/T 22239-2019, clause 8.1" || f.Version != "2019" {
		t.Errorf("name/source/version = %q/%q/%q", f.Name, f.Source, f.Version)
	}
	if d := cmp.Diff([]string{"category", "control", "item"}, f.Levels); d != "" {
		t.Errorf("levels (-want +got):\n%s", d)
	}
	for _, l := range mlpsLangs {
		if strings.TrimSpace(f.Title[l]) == "" {
			t.Errorf("title has no %s", l)
		}
	}
	// The header states the counts the test checks, in both languages.
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"zh-CN", []string{"10 个安全类", "71 个控制点", "211 个要求项"}},
		{"en", []string{"10 categories", "71 control points", "211 requirement items"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(f.Counted[c.lang], w) {
				t.Errorf("counted[%s] = %q, lacks %q", c.lang, f.Counted[c.lang], w)
			}
		}
	}
}

func TestMLPS3Tree(t *testing.T) {
	f := mlpsRead(t)
	levels := f.Levels
	seen := map[string]bool{}
	count := map[string]int{}
	var walk func(n mlpsNode, depth int, parent string)
	walk = func(n mlpsNode, depth int, parent string) {
		if seen[n.ID] {
			t.Errorf("id %q twice", n.ID)
		}
		seen[n.ID] = true
		if depth >= len(levels) {
			t.Errorf("%s: deeper than %d levels", n.ID, len(levels))
			return
		}
		if n.Level != levels[depth] {
			t.Errorf("%s: level %q at depth %d, want %q", n.ID, n.Level, depth, levels[depth])
		}
		count[n.Level]++
		if parent != "" && !strings.HasPrefix(n.ID, parent+".") {
			t.Errorf("%s: not under its parent %s", n.ID, parent)
		}
		for _, l := range mlpsLangs {
			if strings.TrimSpace(n.Title[l]) == "" {
				t.Errorf("%s: no %s title", n.ID, l)
			}
		}
		isItem := depth == len(levels)-1
		if isItem {
			for _, l := range mlpsLangs {
				if strings.TrimSpace(n.Text[l]) == "" {
					t.Errorf("%s: no %s text", n.ID, l)
				}
			}
			if len(n.Children) > 0 {
				t.Errorf("%s: an item with children", n.ID)
			}
			// The Chinese text is the standard's requirement: it says what "shall" (应) or "may" (可) be done.
			if zh := n.Text["zh-CN"]; !strings.Contains(zh, "应") && !strings.HasPrefix(zh, "可") {
				t.Errorf("%s: Chinese text states no requirement: %q", n.ID, zh)
			}
		} else {
			if len(n.Children) == 0 {
				t.Errorf("%s: a %s without children", n.ID, n.Level)
			}
			if len(n.Text) > 0 || len(n.Checks) > 0 {
				t.Errorf("%s: text or checks above item level", n.ID)
			}
		}
		dup := map[string]bool{}
		for _, c := range n.Checks {
			if !mlpsChecks[c] {
				t.Errorf("%s: unknown check %q", n.ID, c)
			}
			if dup[c] {
				t.Errorf("%s: check %q twice", n.ID, c)
			}
			dup[c] = true
		}
		for i, c := range n.Children {
			walk(c, depth+1, n.ID)
			// Clause numbers run in order: 8.1.x.1, 8.1.x.2 … and items a, b, c …
			var want string
			if depth+1 == len(levels)-1 {
				want = n.ID + "." + string(rune('a'+i))
			} else {
				want = n.ID + "." + strconv.Itoa(i+1)
			}
			if c.ID != want {
				t.Errorf("child %d of %s is %s, want %s", i, n.ID, c.ID, want)
			}
		}
	}
	for i, n := range f.Nodes {
		walk(n, 0, "")
		if want := "8.1." + strconv.Itoa(i+1); n.ID != want {
			t.Errorf("category %d is %s, want %s", i, n.ID, want)
		}
	}
	want := map[string]int{"category": mlpsWantCategories, "control": mlpsWantControls, "item": mlpsWantItems}
	if d := cmp.Diff(want, count); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
}
