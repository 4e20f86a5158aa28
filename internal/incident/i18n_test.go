package incident_test

import (
	"testing"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
)

// TestCatalogued: every category, level, status, stage, operator type, regime and alert
// kind has its name in both catalogues, and each alert kind its title and timeline text.
func TestCatalogued(t *testing.T) {
	cat := i18n.MustLoad()
	var keys []string
	for _, c := range incident.Categories {
		keys = append(keys, "incident.category."+c.ID)
	}
	for _, l := range incident.Levels {
		keys = append(keys, "incident.level."+l.ID)
	}
	for _, s := range incident.Statuses {
		keys = append(keys, "incident.status."+s)
	}
	for _, s := range []string{incident.StageReport, incident.StagePassOn, incident.StageFollowUp} {
		keys = append(keys, "incident.stage."+s, "incident.timeline.report."+s)
	}
	for _, o := range incident.OperatorTypes {
		keys = append(keys, "incident.operator."+o)
	}
	for _, r := range incident.DefaultClocks().RegimeNames() {
		keys = append(keys, "incident.regime."+r)
	}
	for _, k := range incident.AlertKinds {
		keys = append(keys, "incident.alert."+k, "alert.kind."+k, "incident.timeline."+k, "trail.summary."+k)
	}
	keys = append(keys, "alert.source."+incident.AlertSource)
	for _, lang := range []string{i18n.EN, i18n.ZhCN} {
		for _, k := range keys {
			if !cat.Has(lang, k) {
				t.Errorf("%s: no %s", lang, k)
			}
		}
	}
	if len(incident.Categories) != 10 || len(incident.Levels) != 4 {
		t.Errorf("%d categories and %d levels, want 10 and 4", len(incident.Categories), len(incident.Levels))
	}
}
