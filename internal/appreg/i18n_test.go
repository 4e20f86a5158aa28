package appreg

import (
	"testing"

	"github.com/medguard/medguard/internal/i18n"
)

// TestAlertTitlesCatalogued: every kind of alert the registry raises has its title and
// its kind's name in both catalogues (the alert inbox refuses a title it cannot say).
func TestAlertTitlesCatalogued(t *testing.T) {
	cat := i18n.MustLoad()
	kinds := append([]string{"app.evicted", "app.rectification", "app.eviction_proposed", "app.escalated"}, derivedTypes...)
	for _, lang := range []string{i18n.EN, i18n.ZhCN} {
		for _, k := range kinds {
			for _, key := range []string{"app.alert." + k, "alert.kind." + k} {
				if !cat.Has(lang, key) {
					t.Errorf("%s: no %s", lang, key)
				}
			}
		}
		if !cat.Has(lang, "app.alert.finding") {
			t.Errorf("%s: no app.alert.finding", lang)
		}
	}
}
