package i18n

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	en := c.Keys(EN)
	if len(en) < 50 {
		t.Fatalf("English catalogue has only %d keys", len(en))
	}
	for _, lang := range Languages {
		for _, other := range Languages {
			for _, k := range c.Keys(lang) {
				if !c.Has(other, k) {
					t.Errorf("key %q is in %s but missing from %s", k, lang, other)
				}
			}
		}
	}
	// Format verbs must agree, or a translation would print %!d(MISSING).
	for _, k := range en {
		if a, b := strings.Count(c.T(EN, k), "%"), strings.Count(c.T(ZhCN, k), "%"); a != b {
			t.Errorf("key %q: %d format verbs in English, %d in Chinese", k, a, b)
		}
	}
}

func TestPick(t *testing.T) {
	c := MustLoad()
	tests := []struct{ name, setting, accept, want string }{
		{"default", "", "", EN},
		{"setting wins", "zh-CN", "en-US,en;q=0.9", ZhCN},
		{"accept zh", "", "zh-CN,zh;q=0.9,en;q=0.8", ZhCN},
		{"accept zh-TW falls to zh", "", "zh-TW", ZhCN},
		{"accept fr", "", "fr-FR", EN},
		{"garbage", "", ";;;=", EN},
		{"bad setting ignored", "xx", "zh", ZhCN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Pick(tc.setting, tc.accept); got != tc.want {
				t.Errorf("Pick(%q, %q) = %q, want %q", tc.setting, tc.accept, got, tc.want)
			}
		})
	}
}

func TestTFallsBack(t *testing.T) {
	c := MustLoad()
	if got := c.T(ZhCN, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	if got := c.T(ZhCN, "nav.assets"); got == c.T(EN, "nav.assets") {
		t.Errorf("nav.assets is not translated into Chinese: %q", got)
	}
}

// TestRenderStoredMessage: a Message read back from JSON (numbers as float64, nested
// messages as objects) renders like the one written.
func TestRenderStoredMessage(t *testing.T) {
	c := MustLoad()
	m := M("supply.reason.block_severity", 10, M("supply.severity.high"))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Message
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		want, got := c.Render(lang, m), c.Render(lang, back)
		if want != got || strings.Contains(got, "%!") {
			t.Errorf("%s: written %q, read back %q", lang, want, got)
		}
	}
	if got := c.Render(ZhCN, back); !strings.Contains(got, "10 个高危") {
		t.Errorf("zh-CN: %q", got)
	}
}
