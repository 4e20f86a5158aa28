package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/i18n"
)

// keyUses find catalogue keys written as literals: in templates ({{.T "k"}}, {{$.T "k"}},
// {{$p.T "k"}}, {{$.TOr "k" …}}) and in Go (T(lang, "k"), p.T("k"), i18n.M("k"),
// WithMsg("k"), msg("k"), trail.Msg("k")). Keys built at run time (printf "supply.rule.%s") are checked
// where their parts are listed, not here.
var keyUses = []*regexp.Regexp{
	regexp.MustCompile(`\.T "([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bT\((?:[a-zA-Z.]+, )?"([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bi18n\.M\("([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bWithMsg\("([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bmsg\("([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\btrail\.Msg\("([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bnewPage\([a-z]+, [a-z]+, "([a-z][a-zA-Z0-9_.-]+)"`),
	regexp.MustCompile(`\bdlpPage\([a-z]+, [a-z]+, "([a-z][a-zA-Z0-9_.-]+)"`),
}

// verbRe finds a catalogue message's format verbs, with an explicit argument index when
// the translation reorders them.
var verbRe = regexp.MustCompile(`%(?:\[(\d+)\])?[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])`)

// verbs returns a message's verbs as "argument:verb", in argument order.
func verbs(msg string) []string {
	var out []string
	n := 0
	for _, m := range verbRe.FindAllStringSubmatch(msg, -1) {
		if m[2] == "%" {
			continue
		}
		if m[1] != "" {
			var i int
			for _, c := range m[1] {
				i = i*10 + int(c-'0')
			}
			n = i
		} else {
			n++
		}
		out = append(out, string(rune('0'+n))+":"+m[2])
	}
	sort.Strings(out)
	return out
}

// TestCatalogueKeysUsedExist: every key the templates and the Go code name exists in both
// catalogues (a missing one shows its key, or English, to a Chinese reader), and every key
// has the same format verbs for the same arguments in both languages.
func TestCatalogueKeysUsedExist(t *testing.T) {
	cat := i18n.MustLoad()
	root := filepath.Join("..")
	used := map[string]string{} // key → first place
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) {
			return nil
		}
		if strings.Contains(path, string(filepath.Separator)+"cli"+string(filepath.Separator)) {
			return nil // CLI output is English only
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range keyUses {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if _, ok := used[m[1]]; !ok && !strings.HasSuffix(m[1], ".") { // a prefix joined at run time
					used[m[1]] = path
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 200 {
		t.Fatalf("found only %d keys in use: the patterns no longer match the code", len(used))
	}
	for k, where := range used {
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, k) {
				t.Errorf("%s uses %q, which the %s catalogue lacks", where, k, lang)
			}
		}
	}
	for _, k := range cat.Keys(i18n.EN) {
		if a, b := verbs(cat.T(i18n.EN, k)), verbs(cat.T(i18n.ZhCN, k)); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("key %q: verbs %v in English, %v in Chinese", k, a, b)
		}
	}
}
