package i18n

import "testing"

// TestTextArgument: a Text argument renders in the reader's language, also after the
// message went through JSON (as stored messages do).
func TestTextArgument(t *testing.T) {
	t.Parallel()
	c := MustLoad()
	m := M("assess.risk.title", "8.1.4.1.d", Text("身份鉴别", "Identification"))
	if got := c.Render(ZhCN, m); got != "合规差距 8.1.4.1.d：身份鉴别" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := c.Render(EN, m); got != "Compliance gap 8.1.4.1.d: Identification" {
		t.Errorf("en: %q", got)
	}
	stored := M("assess.risk.title", "8.1.4.1.d", map[string]any{"en": "Identification"})
	if got := c.Render(ZhCN, stored); got != "合规差距 8.1.4.1.d：Identification" {
		t.Errorf("English fallback: %q", got)
	}
}
