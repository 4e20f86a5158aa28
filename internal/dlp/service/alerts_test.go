package dlpsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// dlpAlerts lists the alerts of source dlp that a sees, oldest first, as
// "kind severity subject count".
func (e *env) dlpAlerts(a actor.Actor) ([]string, []alert.Alert) {
	e.t.Helper()
	as, _, err := e.alerts.List(context.Background(), a, alert.Filter{Source: AlertSource, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(as) - 1; i >= 0; i-- {
		al := as[i]
		out = append(out, fmt.Sprintf("%s %s %s %d", al.Kind, al.Severity, al.Subject, al.Count))
	}
	return out, as
}

// TestCheckRaisesAlerts: a pre-send check answering block or alert raises an alert for
// each checked file — the same file twice is two alerts — that names the file masked
// and holds no raw value; an allowed file raises none.
func TestCheckRaisesAlerts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		named := "王小明_" + residentID + ".txt"
		for _, c := range []struct{ name, body string }{
			{"minutes.txt", plainNote}, {"rx.txt", drugNote}, {named, clinicalNote}, {named, clinicalNote},
		} {
			if _, err := e.svc.Check(ctx, e.privacyA, e.hospA.ID, c.name, []byte(c.body)); err != nil {
				t.Fatal(err)
			}
		}
		got, as := e.dlpAlerts(e.privacyA)
		if len(got) != 3 || got[0] != "dlp_alert medium rx.txt 1" || !strings.HasPrefix(got[1], "dlp_block high ") ||
			got[1] != got[2] || as[0].ID == as[1].ID {
			t.Fatalf("alerts:\n%s", strings.Join(got, "\n"))
		}
		blob, _ := json.Marshal(as)
		for _, raw := range []string{residentID, mobile, "王小明"} {
			if strings.Contains(string(blob), raw) {
				t.Errorf("alerts carry the raw value %q: %s", raw, blob)
			}
		}
		if as[1].Account != e.privacyA.Username || !strings.Contains(as[1].Title, as[1].Subject) || as[1].Subject == "" {
			t.Errorf("account %q, title %q, subject %q", as[1].Account, as[1].Title, as[1].Subject)
		}
		var ev checkEvidence
		if err := json.Unmarshal(as[0].Evidence, &ev); err != nil || ev.Decision != DecisionBlock || ev.HighestLevel < 4 ||
			strings.Join(ev.Reasons, ",") != "level_block,identifies_person" {
			t.Errorf("evidence %s (%v)", as[0].Evidence, err)
		}
		if other, _ := e.dlpAlerts(e.officerB); len(other) != 0 {
			t.Errorf("hospital B sees %v", other)
		}
	})
}

// TestJobRaisesOutsideAllowedPaths: a path job that finds level-4+ data in files outside
// the policy's allowed paths raises one alert for the job (counted again by the next run
// over the same folder); inside them, or with no allowed paths set, it raises none.
func TestJobRaisesOutsideAllowedPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		write := func(rel, body string) {
			p := filepath.Join(e.root, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write("records/a.txt", clinicalNote)
		write("share/b.txt", clinicalNote)
		write("share/c.txt", clinicalNote)
		write("share/plain.txt", plainNote)
		write("share/rx.txt", drugNote)

		// No allowed paths: nothing raised.
		if sc := e.runJobNow(ctx, e.svc, e.root, nil); sc.Status != StatusDone {
			t.Fatalf("job: %+v", sc)
		}
		if got, _ := e.dlpAlerts(e.privacyA); len(got) != 0 {
			t.Fatalf("alerts without allowed paths: %v", got)
		}
		pol := DefaultPolicy()
		pol.AllowedPaths = []string{filepath.Join(e.root, "records") + "/", "  "}
		view, err := e.svc.SetPolicy(ctx, e.privacyA, e.hospA.ID, pol)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(view.AllowedPaths) != fmt.Sprint([]string{filepath.Join(e.root, "records")}) {
			t.Errorf("stored allowed paths %q", view.AllowedPaths)
		}
		for _, bad := range [][]string{{"relative/path"}, {"/a\x00b"}} {
			p := DefaultPolicy()
			p.AllowedPaths = bad
			_, err := e.svc.SetPolicy(ctx, e.privacyA, e.hospA.ID, p)
			wantProblem(t, err, problem.KindInvalid, "")
		}
		e.runJobNow(ctx, e.svc, e.root, nil)
		got, as := e.dlpAlerts(e.privacyA)
		if len(got) != 1 || !strings.HasPrefix(got[0], "dlp_outside_allowed high ") || !strings.HasSuffix(got[0], " 1") {
			t.Fatalf("alerts: %v", got)
		}
		var ev outsideEvidence
		if err := json.Unmarshal(as[0].Evidence, &ev); err != nil || ev.Files != 2 || ev.HighestLevel < 4 {
			t.Errorf("evidence %s (%v): want the 2 files of share/", as[0].Evidence, err)
		}
		if strings.Contains(as[0].DedupKey, e.root) {
			t.Errorf("dedup key names the path: %s", as[0].DedupKey)
		}
		e.runJobNow(ctx, e.svc, e.root, nil)
		if got, _ := e.dlpAlerts(e.privacyA); len(got) != 1 || !strings.HasSuffix(got[0], " 2") {
			t.Errorf("after a second run: %v", got)
		}
		// Only the allowed folder: nothing outside.
		e.runJobNow(ctx, e.svc, filepath.Join(e.root, "records"), nil)
		if got, _ := e.dlpAlerts(e.privacyA); len(got) != 1 {
			t.Errorf("after a job inside the allowed path: %v", got)
		}
	})
}
