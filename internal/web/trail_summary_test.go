package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// unrendered finds what a message that did not render properly leaves in its text: a
// format error, or a catalogue key shown as itself (a nested word whose key is missing).
var unrendered = regexp.MustCompile(`%!|\b(?:trail|role|kind|orgkind|dlp|supply|token)\.[a-z_]+(?:\.[a-z_-]+)*\b`)

// TestTrailSummariesInReadersLanguage: every trail entry the demo writes (sign-ins,
// accounts, organisations, assets, the supply chain, patient-data scans) carries its
// summary as a catalogue message that renders in both languages without a format error
// or a key left untranslated, and the Chinese text differs from the English one wherever
// the summary holds a word to translate.
func TestTrailSummariesInReadersLanguage(t *testing.T) {
	e := newDemoEnv(t)
	n, translated := checkTrailSummaries(t, e)
	if n < 50 {
		t.Fatalf("the demo wrote only %d trail entries", n)
	}
	if translated < n/4 {
		t.Errorf("only %d of %d summaries read differently in Chinese", translated, n)
	}
}

// checkTrailSummaries checks the summary message of every trail entry of e and returns
// the number of entries and of those whose Chinese text differs from the English one.
func checkTrailSummaries(t *testing.T, e *testEnv) (n, translated int) {
	t.Helper()
	ctx := context.Background()
	var entries []trail.Entry
	f := trail.Filter{Limit: 500}
	for {
		page, err := trail.List(ctx, e.db, actor.System(), f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, page...)
		if len(page) < f.Limit {
			break
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
	cat := e.srv.I18n
	actions := map[string]bool{}
	for _, en := range entries {
		actions[en.Action] = true
		if en.Msg == nil {
			t.Errorf("entry %d (%s, %q) has no summary message", en.Seq, en.Action, en.Summary)
			continue
		}
		if !strings.HasPrefix(en.Msg.Key, "trail.summary.") {
			t.Errorf("entry %d (%s): key %q is not a trail summary key", en.Seq, en.Action, en.Msg.Key)
		}
		var texts []string
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, en.Msg.Key) {
				t.Errorf("entry %d (%s): key %q missing from the %s catalogue", en.Seq, en.Action, en.Msg.Key, lang)
			}
			s := cat.Render(lang, *en.Msg)
			if m := unrendered.FindString(s); m != "" {
				t.Errorf("entry %d (%s) in %s: %q shows %q", en.Seq, en.Action, lang, s, m)
			}
			texts = append(texts, s)
		}
		if texts[0] != texts[1] {
			translated++
		}
	}
	var seen []string
	for a := range actions {
		seen = append(seen, a)
	}
	sort.Strings(seen)
	t.Logf("%d entries, %d translated, actions: %s", len(entries), translated, strings.Join(seen, " "))
	return len(entries), translated
}

// TestTrailAPIAndPagesShowSummaryMessages: the API returns each entry's summary_msg beside
// its English summary, and the trail page and an asset's history show the summary in the
// reader's language (and in English to an English reader).
func TestTrailAPIAndPagesShowSummaryMessages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		code, raw := e.api("GET", "/api/v1/trail?action=asset.", "admin", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/trail: %d %s", code, raw)
		}
		var out struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || len(out.Items) == 0 {
			t.Fatalf("trail list: %v %s", err, raw)
		}
		for _, it := range out.Items {
			var m i18n.Message
			if err := json.Unmarshal(it["summary_msg"], &m); err != nil || m.Key != "trail.summary.asset.kind_code" {
				t.Errorf("entry without its summary message: summary %s, summary_msg %s", it["summary"], it["summary_msg"])
			}
			if len(it["summary"]) < 3 {
				t.Errorf("entry without its English summary: %s", it["summary"])
			}
		}

		b := e.newBrowser()
		b.login("admin")
		for _, path := range []string{"/trail", "/assets/" + strconv.FormatInt(e.AssetA.ID, 10)} {
			_, body, _ := b.get(path)
			if !strings.Contains(body, "Server "+e.AssetA.Code) {
				t.Errorf("%s in English: no %q", path, "Server "+e.AssetA.Code)
			}
		}
		if code, _, _ := b.post("/lang", url.Values{"lang": {"zh-CN"}}); code != http.StatusSeeOther {
			t.Fatalf("switch to zh-CN: %d", code)
		}
		for _, path := range []string{"/trail", "/assets/" + strconv.FormatInt(e.AssetA.ID, 10)} {
			_, body, _ := b.get(path)
			if !strings.Contains(body, "服务器 "+e.AssetA.Code) || strings.Contains(body, "server "+e.AssetA.Code) {
				t.Errorf("%s in zh-CN: the asset's summary is not in Chinese", path)
			}
		}
		// Sign-ins (a wrong password, a good one) and sign-outs, the supply chain and
		// patient-data scans of newSupplyEnv: each entry has its message.
		ctx := context.Background()
		if _, err := e.Auth.Login(ctx, "auditor", "wrong password 1", "10.9.9.9", "test"); err == nil {
			t.Fatal("a wrong password signed in")
		}
		if _, err := e.Auth.Login(ctx, "nobody-here", "wrong password 1", "10.9.9.8", "test"); err == nil {
			t.Fatal("an unknown name signed in")
		}
		res, err := e.Auth.Login(ctx, "auditor", testPassword, "10.9.9.7", "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Auth.Logout(ctx, res.Token, "10.9.9.7"); err != nil {
			t.Fatal(err)
		}
		if err := e.Auth.LogoutAll(ctx, actor.System(), e.Users["auditor"].ID); err != nil {
			t.Fatal(err)
		}
		e.seedSupply()
		e.seedDLP()
		checkTrailSummaries(t, e)
	})
}
