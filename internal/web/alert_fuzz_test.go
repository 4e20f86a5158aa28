package web

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

// FuzzAlertBulkForm feeds arbitrary form bodies to the readers of the inbox's bulk
// form (ticked ids and a workflow change): they never panic, and every error is a
// client-safe problem that does not echo the input.
func FuzzAlertBulkForm(f *testing.F) {
	for _, s := range []string{
		"ids=1&ids=2&action=status&status=resolved&resolution=risk_accepted&reason=x&accepted_until=2026-12-31",
		"ids=-1", "ids=abc", "ids=", "action=ack", "ids=9223372036854775808",
		"ids=3&status=resolved&resolution=risk_accepted&accepted_until=2026-02-30",
		"ids=3&status=investigating&resolution=confirmed",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := http.NewRequest("POST", "/alerts/bulk", strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.ParseForm() != nil {
			return
		}
		check := func(err error) {
			if err == nil {
				return
			}
			pe, ok := problem.As(err)
			if !ok {
				t.Fatalf("not a problem: %v", err)
			}
			for _, vs := range r.PostForm {
				for _, v := range vs {
					if len(v) > 3 && strings.Contains(pe.Message, v) {
						t.Fatalf("message %q echoes the input %q", pe.Message, v)
					}
				}
			}
		}
		ids, err := formIDs(r)
		check(err)
		if err == nil && len(ids) == 0 {
			t.Fatal("no ids and no error")
		}
		for _, id := range ids {
			if id <= 0 {
				t.Fatalf("id %d accepted", id)
			}
		}
		ch, err := formChange(r)
		check(err)
		if ch.Status != "resolved" && (ch.Resolution != "" || ch.AcceptedUntil != nil) {
			t.Fatalf("a %q change keeps a resolution: %+v", ch.Status, ch)
		}
	})
}

// FuzzEvidenceRows flattens arbitrary stored evidence: it never panics and never
// shows more than maxEvidenceRows rows.
func FuzzEvidenceRows(f *testing.F) {
	for _, s := range []string{`{"scan_id":7,"reasons":["level 4"],"counts_by_type":{"cn_resident_id":2}}`, `[]`, `null`,
		`{"a":[{"b":[1,2,{"c":null}]}]}`, `{"x":"` + strings.Repeat("y", 100) + `"}`, `{`, `"text"`, `[[[[[[[[[[]]]]]]]]]]`} {
		f.Add([]byte(s))
	}
	s := &Server{Deps: Deps{Logger: slog.Default()}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows := s.evidenceRows("en", raw)
		if len(rows) > maxEvidenceRows {
			t.Fatalf("%d rows", len(rows))
		}
	})
}

// TestEvidenceRows flattens evidence into the alert page's key/value rows: catalogue
// messages in the reader's language (their English copies left out), identifiers
// masked, nested places named.
func TestEvidenceRows(t *testing.T) {
	s := &Server{Deps: Deps{Logger: slog.Default(), I18n: i18n.MustLoad()}}
	raw := []byte(`{"problems":["must be in the future"],"problem_msgs":[{"key":"alert.error.future"}],"n":2,
		"note":"ID 11010519491231002X","files":[{"path":"a.docx","level":4}],"types":["name","phone"]}`)
	for _, c := range []struct {
		lang string
		want []evidenceRow
	}{
		{"en", []evidenceRow{{"files[0].level", "4"}, {"files[0].path", "a.docx"}, {"n", "2"}, {"problem_msgs[0]", "must be in the future"},
			{"types", "name, phone"}}},
		{"zh-CN", []evidenceRow{{"files[0].level", "4"}, {"files[0].path", "a.docx"}, {"n", "2"},
			{"problem_msgs[0]", s.I18n.T("zh-CN", "alert.error.future")}, {"types", "name, phone"}}},
	} {
		got := s.evidenceRows(c.lang, raw)
		var note string
		var rest []evidenceRow
		for _, r := range got {
			if r.Key == "note" {
				note = r.Value
				continue
			}
			rest = append(rest, r)
		}
		if diff := cmp.Diff(c.want, rest); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.lang, diff)
		}
		if note == "" || strings.Contains(note, "11010519491231002X") || strings.Contains(note, "1949") {
			t.Errorf("%s: the note is %q, not masked", c.lang, note)
		}
	}
}
