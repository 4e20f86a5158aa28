package channel

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/i18n"
)

// bodyOf renders m the way the sender of kind sends it and returns the vendor-limited text
// and the whole request body (for e-mail: the plain-text body, twice).
func bodyOf(t *testing.T, kind string, m Message) (text string, request []byte) {
	t.Helper()
	switch kind {
	case KindWeCom:
		s, err := New(Config{Kind: kind, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.(*wecom).body(m)
		if err != nil {
			t.Fatal(err)
		}
		var w wecomBody
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		return w.Markdown.Content, b
	case KindDingTalk:
		s, err := New(Config{Kind: kind, URL: "https://oapi.dingtalk.com/robot/send?access_token=t", Secret: "s"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.(*dingtalk).body(m)
		if err != nil {
			t.Fatal(err)
		}
		var d dingtalkBody
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d.Markdown.Text, b
	case KindFeishu:
		s, err := New(Config{Kind: kind, URL: "https://open.feishu.cn/open-apis/bot/v2/hook/x", Secret: "s"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.(*feishu).body(m, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var f feishuBody
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f.Content.Text, b
	case KindSMTP:
		c := render(m, formatText, 0)
		return c.Body, []byte(c.Body)
	}
	t.Fatalf("no renderer for %s", kind)
	return "", nil
}

// TestRenderMostAlertsFitEachKindsLimit: a message with as many alerts as LimitFor allows
// (100 for the robots), each with a long Chinese title, stays within the vendor's size
// limit in both languages, and still names every alert.
func TestRenderMostAlertsFitEachKindsLimit(t *testing.T) {
	t.Parallel()
	limits := map[string]struct{ text, request int }{
		KindWeCom:    {4096, 0},                    // markdown.content ≤ 4096 bytes
		KindDingTalk: {dingtalkMarkdownMax, 20000}, // kept far inside the reported 20,000 bytes
		KindFeishu:   {0, 20 << 10},                // request body ≤ 20 KB
		KindSMTP:     {0, 0},
	}
	for kind, lim := range limits {
		for _, lang := range i18n.Languages {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				t.Parallel()
				_, most := LimitFor(kind)
				if kind != KindSMTP && most < 100 {
					t.Fatalf("LimitFor(%s) allows only %d alerts a message", kind, most)
				}
				m := Message{Key: "k", Lang: lang, Alerts: sampleAlerts(most)}
				text, req := bodyOf(t, kind, m)
				if lim.text > 0 && len(text) > lim.text {
					t.Errorf("text is %d bytes, limit %d", len(text), lim.text)
				}
				if lim.request > 0 && len(req) > lim.request {
					t.Errorf("request is %d bytes, limit %d", len(req), lim.request)
				}
				if miss := missingIDs(text, m.Alerts); len(miss) > 0 {
					t.Errorf("%d alerts are not named, e.g. %v", len(miss), miss[0])
				}
				wantTitle := map[string]string{i18n.EN: "alert(s)", i18n.ZhCN: "条告警"}[lang]
				if !strings.Contains(text, wantTitle) {
					t.Errorf("the %s message lacks %q:\n%.300s", lang, wantTitle, text)
				}
				wantSev := map[string]string{i18n.EN: "Critical", i18n.ZhCN: "严重"}[lang]
				if !strings.Contains(text, wantSev) {
					t.Errorf("the %s message lacks the severity %q", lang, wantSev)
				}
			})
		}
	}
}

// TestRenderSmallGroupInFull: a few alerts are listed with everything a reader needs:
// severity, title, organisation, masked subject, count and a link each.
func TestRenderSmallGroupInFull(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{KindWeCom, KindDingTalk, KindFeishu, KindSMTP} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			alerts := sampleAlerts(3)
			text, _ := bodyOf(t, kind, Message{Lang: "en", Alerts: alerts})
			for _, a := range alerts {
				for _, want := range []string{a.URL, a.Title[:20], a.Org, "5678"} {
					if !strings.Contains(text, want) {
						t.Errorf("alert %d: %q missing from\n%s", a.ID, want, text)
					}
				}
			}
			if !strings.Contains(text, "seen 2 times") || !strings.Contains(text, "High") {
				t.Errorf("count or severity missing:\n%s", text)
			}
			if strings.Contains(text, "shortened") {
				t.Errorf("three alerts were shortened:\n%s", text)
			}
		})
	}
}

// TestRenderTestMessageSaysItIsATest in both languages, with or without alerts.
func TestRenderTestMessageSaysItIsATest(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		i18n.EN:   {"Test message", "This is a test message"},
		i18n.ZhCN: {"测试消息", "这是 medguard 发送的测试消息"},
	}
	for lang, ws := range want {
		for _, kind := range []string{KindWeCom, KindDingTalk, KindFeishu, KindSMTP} {
			text, _ := bodyOf(t, kind, Message{Key: "t", Lang: lang, Test: true})
			for _, w := range ws {
				if !strings.Contains(text, w) {
					t.Errorf("%s/%s: %q missing from\n%s", kind, lang, w, text)
				}
			}
		}
	}
	c := render(Message{Lang: "zh-CN", Test: true}, formatText, 0)
	if c.Title != "[medguard] 测试消息" {
		t.Errorf("test title %q", c.Title)
	}
}

// TestRenderNeutralisesMarkup: an alert's text cannot add lines, headings, links or
// tags to a markdown message, and a link that is not http(s) is left out.
func TestRenderNeutralisesMarkup(t *testing.T) {
	t.Parallel()
	a := Alert{
		ID: 7, Severity: "critical",
		Title: "pkg\n### forged heading\n[click](https://evil.example) <font color=\"warning\">x</font> **bold**",
		Org:   "org\r\n- forged item", URL: "javascript:alert(1)",
	}
	text, _ := bodyOf(t, KindDingTalk, Message{Lang: "en", Alerts: []Alert{a, {ID: 8, Severity: "low", Title: "ok", URL: "https://m.example/alerts/8"}}})
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "### forged") || strings.HasPrefix(line, "- forged") {
			t.Errorf("a title started its own line: %q", line)
		}
	}
	for _, bad := range []string{"](https://evil", "<font", "javascript:", "**bold**"} {
		if strings.Contains(text, bad) {
			t.Errorf("%q reached the markdown:\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "(https://m.example/alerts/8)") {
		t.Errorf("a good link was lost:\n%s", text)
	}
}

// TestSeverityLabelsInBothCatalogues: every severity has a label in both languages (the
// keys are built at run time, so the web package's key scan does not see them).
func TestSeverityLabelsInBothCatalogues(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	for _, sev := range []string{"critical", "high", "medium", "low", "info"} {
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, "notify.severity."+sev) {
				t.Errorf("%s lacks notify.severity.%s", lang, sev)
			}
		}
	}
}

// TestMailHTMLEscapesAlertText: the e-mail's HTML part shows an alert's text as text.
func TestMailHTMLEscapesAlertText(t *testing.T) {
	t.Parallel()
	h, err := renderHTML(Message{Lang: "en", Alerts: []Alert{{
		ID: 9, Severity: "high", Title: `<script>alert(1)</script>`, Org: `"><img src=x>`,
		URL: "https://m.example/alerts/9",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(h, bad) {
			t.Errorf("%q reached the HTML:\n%s", bad, h)
		}
	}
	if !strings.Contains(h, `href="https://m.example/alerts/9"`) || !strings.Contains(h, "&lt;script&gt;") {
		t.Errorf("link or escaped title missing:\n%s", h)
	}
}
