package channel

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/i18n"
)

// catalog is the embedded message catalogue, loaded once: it never changes at run time.
var catalog = sync.OnceValue(i18n.MustLoad)

// content is one rendered message: a title (DingTalk's notification preview, the e-mail
// subject) and a body in the sender's format.
type content struct {
	Title string
	Body  string
}

// format says how a kind writes its body.
type format int

const (
	formatMarkdown format = iota // WeCom and DingTalk markdown: one list item per alert, a link each
	formatText                   // Feishu text, e-mail plain text: the URL on its own line
)

// tier is one level of detail. render tries the full tiers in order, then the longest
// compact title that fits, so a small group reads in full and a hundred alerts still
// arrive in one message: details and per-alert links go before anything else, and no
// tier ever leaves an alert out.
type tier struct {
	compact  bool // only severity, id and title per alert, one link to the inbox
	titleCap int  // most runes of a title; -1 no cap; 0 no title
}

var fullTiers = []tier{{false, -1}, {false, 80}, {false, 40}}

// compactTitleMax is the longest title a compact listing keeps.
const compactTitleMax = 60

// msgLang returns the message's language, English when it names none we support.
func msgLang(m Message) string {
	if l := i18n.Normalize(m.Lang); l != "" {
		return l
	}
	return i18n.EN
}

// severityLabel is a severity in the message's language ("严重", "High").
func severityLabel(lang, sev string) string {
	switch sev {
	case "critical", "high", "medium", "low", "info":
		return catalog().T(lang, "notify.severity."+sev)
	}
	return oneLine(sev)
}

// render writes m in format f within budget bytes (0: no limit). The budget counts the
// text the vendor limits (WeCom's markdown content, DingTalk's markdown text, Feishu's
// text); callers leave room for the JSON around it. When even the tersest tier is over
// budget the tersest is returned: an alert is never dropped to make a message fit.
func render(m Message, f format, budget int) content {
	lang := msgLang(m)
	for _, t := range fullTiers {
		if c := renderTier(m, lang, f, t); budget <= 0 || len(c.Body) <= budget {
			return c
		}
	}
	// The body grows with the title cap: find the largest cap that fits.
	best := renderTier(m, lang, f, tier{true, 0})
	lo, hi := 1, compactTitleMax
	for lo <= hi {
		mid := (lo + hi) / 2
		if c := renderTier(m, lang, f, tier{true, mid}); len(c.Body) <= budget {
			best, lo = c, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// subjectLine is the message's title: a test, the one alert's title, or a count. esc
// escapes the alert's own text for the body's format.
func subjectLine(m Message, lang string, esc func(string) string) string {
	cat := catalog()
	switch {
	case m.Test:
		return cat.T(lang, "notify.msg.test_title")
	case len(m.Alerts) == 1:
		a := m.Alerts[0]
		return cat.T(lang, "notify.msg.title_one", esc(truncate(severityLabel(lang, a.Severity)+" "+oneLine(a.Title), 100)))
	}
	return cat.T(lang, "notify.msg.title", len(m.Alerts))
}

func renderTier(m Message, lang string, f format, t tier) content {
	cat := catalog()
	title := subjectLine(m, lang, func(s string) string { return s })
	var b strings.Builder
	if f == formatMarkdown {
		b.WriteString("### " + subjectLine(m, lang, mdEscape) + "\n\n")
	} else {
		b.WriteString(title + "\n\n")
	}
	if m.Test {
		b.WriteString(cat.T(lang, "notify.msg.test_body") + "\n\n")
	}
	for _, a := range m.Alerts {
		writeAlert(&b, a, lang, f, t)
	}
	if len(m.Alerts) > 0 {
		b.WriteString("\n")
	}
	if t.compact {
		if inbox := inboxURL(m.Alerts); inbox != "" {
			if f == formatMarkdown {
				b.WriteString("[" + cat.T(lang, "notify.msg.inbox") + "](" + inbox + ")\n\n")
			} else {
				b.WriteString(cat.T(lang, "notify.msg.inbox") + ": " + inbox + "\n\n")
			}
		}
		b.WriteString(cat.T(lang, "notify.msg.shortened") + "\n")
	} else {
		b.WriteString(cat.T(lang, "notify.msg.footer") + "\n")
	}
	return content{Title: title, Body: b.String()}
}

// writeAlert writes one alert's line(s).
func writeAlert(b *strings.Builder, a Alert, lang string, f format, t tier) {
	sev := severityLabel(lang, a.Severity)
	title := oneLine(a.Title)
	if t.titleCap >= 0 {
		title = truncate(title, t.titleCap)
	}
	md := f == formatMarkdown
	esc := func(s string) string {
		if md {
			return mdEscape(s)
		}
		return s
	}
	if md {
		b.WriteString("- **" + esc(sev) + "** ")
	} else {
		b.WriteString("[" + sev + "] ")
	}
	fmt.Fprintf(b, "#%d", a.ID)
	if title != "" {
		b.WriteString(" " + esc(title))
	}
	if t.compact {
		b.WriteString("\n")
		return
	}
	for _, part := range []string{oneLine(a.Org), oneLine(a.Subject)} {
		if part != "" {
			b.WriteString(" · " + esc(truncate(part, 60)))
		}
	}
	if a.Count > 1 {
		b.WriteString(" · " + esc(catalog().T(lang, "notify.msg.count", a.Count)))
	}
	link := safeURL(a.URL)
	switch {
	case link == "":
		b.WriteString("\n")
	case md:
		b.WriteString(" [" + mdEscape(catalog().T(lang, "notify.msg.open")) + "](" + link + ")\n")
	default:
		b.WriteString("\n  " + link + "\n")
	}
}

// inboxURL is the inbox the alerts' links live in: the first alert's URL without its last
// path segment (https://medguard.example/alerts/42 → https://medguard.example/alerts).
func inboxURL(alerts []Alert) string {
	for _, a := range alerts {
		u, err := url.Parse(safeURL(a.URL))
		if err != nil || u.Host == "" {
			continue
		}
		p := strings.TrimSuffix(u.Path, "/")
		if i := strings.LastIndex(p, "/"); i >= 0 {
			p = p[:i]
		}
		u.Path, u.RawQuery, u.Fragment = p, "", ""
		return u.String()
	}
	return ""
}

// safeURL returns s when it is an absolute http(s) URL without spaces or markdown's
// closing parenthesis, and "" otherwise (a link that would break the message is left out;
// the alert's id still names it).
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if strings.ContainsAny(s, " \t\r\n()<>\"") {
		return ""
	}
	return s
}

// oneLine folds control characters (newlines included) into single spaces, so a title
// cannot start a new markdown block or forge a line of the listing.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n runes, ending with "…" when it cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// mdEscape keeps an alert's text from being read as markdown emphasis, a link or code,
// and from opening an HTML-like tag (WeCom reads <font> and <@userid>). The robots'
// markdown dialects do not all honour backslash escapes, so the markup characters become
// look-alikes (∗ for *, full-width brackets), which every client shows as written.
var mdReplacer = strings.NewReplacer(
	`*`, "∗", "`", "｀", `[`, "［", `]`, "］", `<`, "＜", `>`, "＞",
)

func mdEscape(s string) string { return mdReplacer.Replace(s) }
