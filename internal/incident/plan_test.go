package incident_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBuiltinTemplates: the six templates the issue names parse, each with an incident
// commander, the phases from detection to review in its checklist, a step reporting per
// 《国家网络安全事件报告管理办法》, and no role that nothing uses.
func TestBuiltinTemplates(t *testing.T) {
	ts, err := incident.BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tp := range ts {
		ids = append(ids, tp.ID)
	}
	want := []string{"his-outage", "internet-hospital-app", "medical-device", "patient-data-leak", "ransomware", "supply-chain"}
	if d := cmp.Diff(want, ids); d != "" {
		t.Fatalf("templates (-want +got):\n%s", d)
	}
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			used := map[string]bool{}
			phases := map[string]bool{}
			reports := false
			for _, s := range tp.Steps {
				used[s.Role] = true
				if s.Phase == incident.PhaseReport && strings.Contains(s.Text.ZH, "《国家网络安全事件报告管理办法》") {
					reports = true
				}
			}
			for _, it := range tp.Checklist {
				used[it.Role] = true
				phases[it.Phase] = true
			}
			if !reports {
				t.Error("no report step citing 《国家网络安全事件报告管理办法》")
			}
			for _, p := range []string{incident.PhaseDetect, incident.PhaseContain, incident.PhaseRecover, incident.PhaseReport, incident.PhaseReview} {
				if !phases[p] {
					t.Errorf("no checklist item in phase %s", p)
				}
			}
			if tp.Roles[0].ID != "commander" {
				t.Errorf("first role %q, want commander", tp.Roles[0].ID)
			}
			for _, r := range tp.Roles {
				if !used[r.ID] {
					t.Errorf("role %s has no step and no item", r.ID)
				}
			}
			if len(tp.Checklist) < 10 {
				t.Errorf("%d checklist items: a template is specific", len(tp.Checklist))
			}
		})
	}
}

// TestParsePlanCases: every file in testdata/plans is accepted (ok-*) or refused with
// the field and catalogue key its case names.
func TestParsePlanCases(t *testing.T) {
	cases := map[string]struct{ field, key string }{
		"ok-small.yaml":           {},
		"missing-zh.yaml":         {"steps[0].text.zh-CN", "plan.error.required"},
		"unknown-role.yaml":       {"steps[0].role", "plan.error.unknown_role"},
		"phase-order.yaml":        {"steps[1].phase", "plan.error.phase_order"},
		"bad-phase.yaml":          {"steps[1].phase", "plan.error.phase"},
		"bad-id.yaml":             {"id", "plan.error.id"},
		"unknown-field.yaml":      {"", "plan.error.yaml"},
		"duplicate-key.yaml":      {"", "plan.error.yaml"},
		"two-documents.yaml":      {"", "plan.error.yaml"},
		"duplicate-item.yaml":     {"checklist[1].id", "plan.error.duplicate_id"},
		"template-people.yaml":    {"roles[0].people", "plan.error.template_people"},
		"empty.yaml":              {"", "plan.error.yaml"},
		"alias.yaml":              {"", "plan.error.yaml"},
		"no-steps.yaml":           {"steps", "plan.error.required"},
		"control-char.yaml":       {"steps[0].text.en", "plan.error.text"},
		"roles-not-list.yaml":     {"", "plan.error.yaml"},
		"duplicate-role.yaml":     {"roles[1].id", "plan.error.duplicate_id"},
		"bad-phone-template.yaml": {"", "plan.error.yaml"},
	}
	files, err := filepath.Glob("testdata/plans/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("%d files, %d cases", len(files), len(cases))
	}
	cat := i18n.MustLoad()
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := cases[name]
			if !ok {
				t.Fatal("no case for this file")
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = incident.ParsePlan(b)
			if want.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *incident.PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a PlanError", err)
			}
			if pe.Field != want.field || pe.Key != want.key {
				t.Errorf("field %q key %q (%v), want %q %q", pe.Field, pe.Key, err, want.field, want.key)
			}
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, pe.Key) {
					t.Errorf("%s: no %s", lang, pe.Key)
				}
			}
		})
	}
}

// TestParsePlanTooBig: a document over MaxPlanSize is refused before it is read.
func TestParsePlanTooBig(t *testing.T) {
	_, err := incident.ParsePlan([]byte("id: x\n" + strings.Repeat("# padding\n", incident.MaxPlanSize/10+1)))
	var pe *incident.PlanError
	if !errors.As(err, &pe) || pe.Key != "plan.error.too_big" {
		t.Fatalf("%v, want plan.error.too_big", err)
	}
}

// TestCheckOneLanguage: a hospital's own plan may be written in one language, not in none.
func TestCheckOneLanguage(t *testing.T) {
	ts, err := incident.BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	c := ts[0].Content
	c.Steps = slices.Clone(c.Steps)
	c.Steps[0].Text = incident.Text{ZH: "  只写中文  "}
	got, err := incident.Check(c, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[0].Text.ZH != "只写中文" || got.Steps[0].Text.In(i18n.EN) != "只写中文" {
		t.Errorf("text %+v", got.Steps[0].Text)
	}
	if _, err := incident.Check(c, true); err == nil {
		t.Error("a template without English accepted")
	}
	c.Steps[0].Text = incident.Text{}
	if _, err := incident.Check(c, false); err == nil {
		t.Error("an empty step accepted")
	}
}

// FuzzParsePlan: whatever is accepted is valid content, and parses the same again from
// its own YAML; a refusal says why.
func FuzzParsePlan(f *testing.F) {
	files, _ := filepath.Glob("testdata/plans/*.yaml")
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := incident.ParsePlan(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if _, err := incident.Check(tp.Content, true); err != nil {
			t.Fatalf("accepted invalid content: %v", err)
		}
		y, err := incident.TemplateYAML(tp)
		if err != nil {
			t.Fatal(err)
		}
		again, err := incident.ParsePlan(y)
		if err != nil {
			t.Fatalf("its own YAML is refused: %v\n%s", err, y)
		}
		if d := cmp.Diff(tp, again); d != "" {
			t.Fatalf("YAML round trip (-want +got):\n%s", d)
		}
	})
}

// planWorld is the world of the incident tests with the plans' service on its clock.
type planWorld struct {
	*world
	plans *incident.Plans
}

func newPlanWorld(t *testing.T, db *store.DB, opt incident.PlanOptions) *planWorld {
	t.Helper()
	w := newWorld(t, db, incident.Options{})
	opt.Now = func() time.Time { return w.now }
	return &planWorld{world: w, plans: incident.NewPlans(db, w.tl, opt)}
}

func wantKind(t *testing.T, what string, err error, k problem.Kind) {
	t.Helper()
	if problem.KindOf(err) != k {
		t.Fatalf("%s: %v (kind %v), want kind %v", what, err, problem.KindOf(err), k)
	}
}

// TestPlanLifecycle: adopt a template (once), name people, approve the version read,
// edit again (a new draft version), with another hospital finding none of it.
func TestPlanLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newPlanWorld(t, db, incident.PlanOptions{})
		pl, err := w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "ransomware")
		if err != nil {
			t.Fatal(err)
		}
		tmpl, _ := w.plans.Template("ransomware")
		if pl.Version != 1 || pl.Status != incident.PlanDraft || pl.TemplateID != "ransomware" || pl.OrgID != w.hospA.ID {
			t.Fatalf("adopted: %+v", pl)
		}
		if d := cmp.Diff(tmpl.Content, pl.Content); d != "" {
			t.Fatalf("adopted content (-template +plan):\n%s", d)
		}
		_, err = w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "ransomware")
		wantKind(t, "adopt twice", err, problem.KindConflict)
		_, err = w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "no-such")
		wantKind(t, "unknown template", err, problem.KindNotFound)
		_, err = w.plans.AdoptTemplate(ctx, w.secB, w.hospA.ID, "his-outage")
		wantKind(t, "adopt for another hospital", err, problem.KindNotFound)
		_, err = w.plans.Plan(ctx, w.secB, pl.ID)
		wantKind(t, "read another hospital's plan", err, problem.KindNotFound)
		if l, err := w.plans.Plans(ctx, w.secB, incident.PlanQuery{}); err != nil || len(l) != 0 {
			t.Fatalf("another hospital lists %v %v", l, err)
		}

		c := pl.Content
		c.Roles = slices.Clone(c.Roles)
		c.Roles[0].People = []incident.Person{{Name: "张院长", Phone: "138 0000 0001"}, {Username: "sec-a"}}
		_, err = w.plans.UpdatePlan(ctx, w.secB, pl.ID, incident.PlanUpdate{Version: 1, Content: c})
		wantKind(t, "another hospital edits", err, problem.KindNotFound)
		_, err = w.plans.UpdatePlan(ctx, w.secA, pl.ID, incident.PlanUpdate{Version: 7, Content: c})
		wantKind(t, "stale version", err, problem.KindConflict)
		bad := c
		bad.Roles = slices.Clone(c.Roles)
		bad.Roles[0].People = []incident.Person{{Name: "王工", Phone: "call me"}}
		_, err = w.plans.UpdatePlan(ctx, w.secA, pl.ID, incident.PlanUpdate{Version: 1, Content: bad})
		wantKind(t, "bad phone", err, problem.KindInvalid)
		if pe, _ := problem.As(err); pe.Field != "roles[0].people[0].phone" || pe.Msg == nil || pe.Msg.Key != "plan.error.phone" {
			t.Fatalf("bad phone: %+v", pe)
		}
		w.now = w.now.Add(time.Hour)
		pl, err = w.plans.UpdatePlan(ctx, w.secA, pl.ID, incident.PlanUpdate{Version: 1, Content: c})
		if err != nil {
			t.Fatal(err)
		}
		if pl.Version != 2 || pl.Status != incident.PlanDraft || len(pl.Content.Roles[0].People) != 2 || pl.UpdatedBy != "sec-a" {
			t.Fatalf("updated: %+v", pl)
		}
		_, err = w.plans.ApprovePlan(ctx, w.secA, pl.ID, 1)
		wantKind(t, "approve a version not read", err, problem.KindConflict)
		pl, err = w.plans.ApprovePlan(ctx, w.secA, pl.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Status != incident.PlanApproved || pl.ApprovedBy != "sec-a" || !pl.ApprovedAt.Equal(w.now) ||
			!pl.ReviewDue.Equal(w.now.Add(365*24*time.Hour)) {
			t.Fatalf("approved: %+v", pl)
		}
		_, err = w.plans.ApprovePlan(ctx, w.secA, pl.ID, 2)
		wantKind(t, "approve twice", err, problem.KindConflict)
		c.Steps = c.Steps[:3]
		pl, err = w.plans.UpdatePlan(ctx, w.secA, pl.ID, incident.PlanUpdate{Version: 2, Content: c})
		if err != nil {
			t.Fatal(err)
		}
		if pl.Version != 3 || pl.Status != incident.PlanDraft || len(pl.Content.Steps) != 3 {
			t.Fatalf("edited after approval: %+v", pl)
		}
		vs, err := w.plans.PlanVersions(ctx, w.secA, pl.ID)
		if err != nil || len(vs) != 1 || vs[0].Version != 2 || len(vs[0].Content.Steps) != len(tmpl.Steps) {
			t.Fatalf("versions %+v %v", vs, err)
		}
		l, err := w.plans.Plans(ctx, w.secA, incident.PlanQuery{Status: incident.PlanDraft})
		if err != nil || len(l) != 1 || l[0].ID != pl.ID {
			t.Fatalf("list %v %v", l, err)
		}
		if l, _ := w.plans.Plans(ctx, w.secA, incident.PlanQuery{Status: incident.PlanApproved}); len(l) != 0 {
			t.Fatalf("approved list %v", l)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM trail WHERE action LIKE 'plan.%'`).Scan(&n); err != nil || n != 4 {
			t.Fatalf("%d plan trail entries (%v), want 4 (adopt, 2 updates, approve)", n, err)
		}
	})
}

// TestChecklist: an incident's checklist is the plan's as it was when started; ticks
// record who and when; another hospital neither sees nor ticks it.
func TestChecklist(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newPlanWorld(t, db, incident.PlanOptions{})
		pl, err := w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "his-outage")
		if err != nil {
			t.Fatal(err)
		}
		// Real incidents: one of each hospital.
		open := func(a actor.Actor, org int64) int64 {
			in, err := w.inc.Open(ctx, a, incident.Input{OrgID: org, Level: incident.LevelGeneral,
				Details: incident.Details{Title: "HIS down", Category: "equipment_failure"}})
			if err != nil {
				t.Fatal(err)
			}
			return in.ID
		}
		incA, incB := open(w.secA, w.hospA.ID), open(w.secB, w.hospB.ID)
		start := func(a actor.Actor, planID, incidentID int64) (incident.ChecklistRun, error) {
			var r incident.ChecklistRun
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				r, err = w.plans.StartChecklist(ctx, tx, a, planID, incidentID)
				return err
			})
			return r, err
		}
		_, err = start(w.secB, pl.ID, incB)
		wantKind(t, "another hospital starts it", err, problem.KindNotFound)
		_, err = start(w.secA, pl.ID, incB)
		wantKind(t, "for another hospital's incident", err, problem.KindInvalid)
		_, err = start(w.secA, pl.ID, incB+1000)
		wantKind(t, "for no incident", err, problem.KindInvalid)
		run, err := start(w.secA, pl.ID, incA)
		if err != nil {
			t.Fatal(err)
		}
		if run.IncidentID != incA || run.PlanVersion != 1 || len(run.Items) != len(pl.Content.Checklist) || run.Done != 0 ||
			run.Items[0].Key != pl.Content.Checklist[0].ID || run.Items[0].Text != pl.Content.Checklist[0].Text {
			t.Fatalf("run: %+v", run)
		}
		_, err = start(w.secA, pl.ID, incA)
		wantKind(t, "the same plan twice for an incident", err, problem.KindConflict)

		// Editing the plan afterwards does not change the run.
		c := pl.Content
		c.Checklist = c.Checklist[:2]
		if _, err := w.plans.UpdatePlan(ctx, w.secA, pl.ID, incident.PlanUpdate{Version: 1, Content: c}); err != nil {
			t.Fatal(err)
		}
		item := run.Items[3]
		_, err = w.plans.TickItem(ctx, w.secB, run.ID, item.ID, true, "")
		wantKind(t, "another hospital ticks", err, problem.KindNotFound)
		_, err = w.plans.TickItem(ctx, w.secA, run.ID, 999999, true, "")
		wantKind(t, "an item of no run", err, problem.KindNotFound)
		w.now = w.now.Add(10 * time.Minute)
		got, err := w.plans.TickItem(ctx, w.secA, run.ID, item.ID, true, "  门诊、急诊已发放  ")
		if err != nil {
			t.Fatal(err)
		}
		ti := got.Items[3]
		if !ti.Done || ti.DoneBy != "sec-a" || !ti.DoneAt.Equal(w.now) || ti.Note != "门诊、急诊已发放" || got.Done != 1 ||
			len(got.Items) != len(run.Items) {
			t.Fatalf("ticked: %+v (%d done)", ti, got.Done)
		}
		got, err = w.plans.TickItem(ctx, w.secA, run.ID, item.ID, false, "")
		if err != nil || got.Items[3].Done || got.Items[3].DoneAt != nil || got.Done != 0 {
			t.Fatalf("unticked: %+v %v", got.Items[3], err)
		}
		runs, err := w.plans.ChecklistOf(ctx, w.secA, incA)
		if err != nil || len(runs) != 1 || runs[0].ID != run.ID || len(runs[0].Items) != len(run.Items) {
			t.Fatalf("checklist of incident A: %+v %v", runs, err)
		}
		if runs, err := w.plans.ChecklistOf(ctx, w.secB, incA); err != nil || len(runs) != 0 {
			t.Fatalf("another hospital sees %+v %v", runs, err)
		}
		if runs, err := w.plans.ChecklistOf(ctx, w.secA, incB); err != nil || len(runs) != 0 {
			t.Fatalf("incident B: %+v %v", runs, err)
		}
	})
}

// TestPlanKeysCatalogued: every catalogue key the package names ("plan.…",
// "trail.summary.plan.…", "alert.kind.plan.…") is in both catalogues.
func TestPlanKeysCatalogued(t *testing.T) {
	cat := i18n.MustLoad()
	re := regexp.MustCompile(`(Action: |Alert[A-Za-z]+ += )?"((?:trail\.summary\.|alert\.kind\.|alert\.source\.)?plan\.[a-z_.]+[a-z_])"`)
	n := 0
	for _, f := range []string{"plan.go", "drill.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "" {
				continue // a trail action or an alert kind, not a key
			}
			n++
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, m[2]) {
					t.Errorf("%s: %s: no %s", f, lang, m[2])
				}
			}
		}
	}
	for _, p := range incident.Phases {
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, "plan.phase."+p) {
				t.Errorf("%s: no plan.phase.%s", lang, p)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d keys", n)
	}
}
