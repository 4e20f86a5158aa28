package risk_test

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestPlaybooks: a risk created at each level gets that level's tasks, titled by
// catalogue keys that render in both languages, due as the playbook says, the
// emergency task linked to emergency response; a level rising to high adds the
// active-defence tasks once, and falling back and rising again adds none still open.
func TestPlaybooks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{EmergencyLink: "/plans"})
		cat := i18n.MustLoad()
		tests := []struct {
			l, i  int
			level string
			keys  []string
		}{
			{1, 1, "low", []string{"risk.playbook.monitor.watch"}},
			{3, 3, "medium", []string{"risk.playbook.manage.audit", "risk.playbook.manage.policy", "risk.playbook.manage.training"}},
			{4, 4, "high", []string{"risk.playbook.defence.contain", "risk.playbook.defence.emergency", "risk.playbook.defence.harden", "risk.playbook.defence.monitor"}},
			{5, 5, "critical", []string{"risk.playbook.defence.contain", "risk.playbook.defence.emergency", "risk.playbook.defence.harden", "risk.playbook.defence.monitor", "risk.playbook.defence.report"}},
		}
		for _, tc := range tests {
			in := input(w)
			in.InherentLikelihood, in.InherentImpact, in.Likelihood, in.Impact = tc.l, tc.i, tc.l, tc.i
			r, err := w.reg.Create(ctx, w.secA, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Level != tc.level {
				t.Fatalf("%d×%d: level %s", tc.l, tc.i, r.Level)
			}
			keys := []string{}
			for _, tk := range r.Tasks {
				keys = append(keys, tk.TitleMsg.Key)
				en, zh := cat.Render(i18n.EN, *tk.TitleMsg), cat.Render(i18n.ZhCN, *tk.TitleMsg)
				if en == tk.TitleMsg.Key || zh == tk.TitleMsg.Key || en == zh || tk.Title != en || tk.Playbook != tc.level {
					t.Errorf("%s: task %+v renders %q / %q", tc.level, tk, en, zh)
				}
				if emergency := strings.HasSuffix(tk.TitleMsg.Key, ".emergency"); emergency != (tk.Link == "/plans") {
					t.Errorf("%s: task %s links %q", tc.level, tk.TitleMsg.Key, tk.Link)
				}
				if strings.HasSuffix(tk.TitleMsg.Key, ".contain") && (tk.DueAt == nil || !tk.DueAt.Equal(w.now.AddDate(0, 0, 3))) {
					t.Errorf("%s: contain due %v", tc.level, tk.DueAt)
				}
			}
			sort.Strings(keys)
			if d := cmp.Diff(tc.keys, keys); d != "" {
				t.Errorf("%s playbook (-want +got):\n%s", tc.level, d)
			}
		}

		// low → high → medium → high: the defence tasks are added once.
		in := input(w)
		in.InherentLikelihood, in.InherentImpact, in.Likelihood, in.Impact = 1, 1, 1, 1
		r, err := w.reg.Create(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, li := range [][2]int{{4, 4}, {3, 3}, {4, 4}} {
			in.InherentLikelihood, in.InherentImpact, in.Likelihood, in.Impact = li[0], li[1], li[0], li[1]
			if r, err = w.reg.Update(ctx, w.secA, r.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		count := map[string]int{}
		for _, tk := range r.Tasks {
			count[tk.Playbook]++
		}
		if d := cmp.Diff(map[string]int{"low": 1, "high": 4, "medium": 3}, count); d != "" {
			t.Fatalf("tasks by playbook (-want +got):\n%s", d)
		}
	})
}

// TestCatalogued: every key the register renders — levels, statuses, treatments,
// categories, sources, the alert kinds and their titles, playbook tasks — is in both
// catalogues, and a playbook naming a missing key is refused by New.
func TestCatalogued(t *testing.T) {
	cat := i18n.MustLoad()
	keys := []string{"alert.source.risk"}
	for _, b := range risk.DefaultMatrix().Levels {
		keys = append(keys, "risk.level."+b.ID)
	}
	for _, s := range risk.Statuses {
		keys = append(keys, "risk.status."+s)
	}
	for _, s := range risk.Treatments {
		keys = append(keys, "risk.treatment."+s)
	}
	for _, s := range risk.Categories {
		keys = append(keys, "risk.category."+s)
	}
	for _, s := range risk.Modules {
		keys = append(keys, "risk.source."+s)
	}
	for _, k := range []string{risk.KindAcceptanceExpired, risk.KindReviewDue, risk.KindReviewOverdue, risk.KindTaskDue, risk.KindTaskOverdue} {
		keys = append(keys, "alert.kind."+k, "risk.alert."+strings.TrimPrefix(k, "risk."))
	}
	for _, tasks := range risk.DefaultPlaybooks() {
		for _, tk := range tasks {
			keys = append(keys, tk.Key)
		}
	}
	for _, lang := range i18n.Languages {
		for _, k := range keys {
			if !cat.Has(lang, k) {
				t.Errorf("%s: no %s", lang, k)
			}
		}
	}
	if _, err := risk.New(nil, nil, nil, risk.Options{Playbooks: map[string][]risk.PlaybookTask{"high": {{Key: "risk.playbook.nope"}}}}); err == nil {
		t.Error("New accepted a playbook task with no catalogue key")
	}
}

// TestMessagesFormat: every message of the register renders in both languages with the
// arguments its English text takes (no "%!" from a verb of the wrong type or count).
func TestMessagesFormat(t *testing.T) {
	cat := i18n.MustLoad()
	verb := regexp.MustCompile(`%[ds]`)
	n := 0
	for _, k := range cat.Keys(i18n.EN) {
		if !strings.HasPrefix(k, "risk.") && !strings.HasPrefix(k, "trail.summary.risk.") {
			continue
		}
		n++
		var args []any
		for _, v := range verb.FindAllString(cat.T(i18n.EN, k), -1) {
			if v == "%d" {
				args = append(args, 7)
			} else {
				args = append(args, "x")
			}
		}
		for _, lang := range i18n.Languages {
			if got := cat.Render(lang, i18n.M(k, args...)); strings.Contains(got, "%!") {
				t.Errorf("%s %s: %q", lang, k, got)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d keys", n)
	}
}
