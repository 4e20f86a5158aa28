package incident_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
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
