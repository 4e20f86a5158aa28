package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestAlertSLAPage: the security officer sees the SLA in force at the hospital (the
// defaults), changes one severity, and sees it kept; a bad value is shown on the page;
// another hospital is not found; the auditor sees the hours without a form and may not post.
func TestAlertSLAPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		sec := e.newBrowser()
		sec.login("secofficer")
		code, body, _ := sec.get("/alerts/sla?org_id=" + id(e.HospA.ID))
		mustContain(t, code, body, http.StatusOK, `id="sla-form"`, `id="sla-hours-critical" value="24"`, `id="sla-hours-high" value="72"`,
			`id="alert-nav-sla"`)
		code, _, h := sec.post("/alerts/sla", url.Values{"org_id": {id(e.HospA.ID)}, "hours_high": {"48"}})
		if code != http.StatusSeeOther {
			t.Fatalf("save the SLA: %d", code)
		}
		code, body, _ = sec.get(h.Get("Location"))
		mustContain(t, code, body, http.StatusOK, `id="sla-hours-high" value="48"`, `id="sla-hours-critical" value="24"`)
		code, body, _ = sec.post("/alerts/sla", url.Values{"org_id": {id(e.HospA.ID)}, "hours_low": {"soon"}})
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`)
		mustNotContain(t, body, "soon")
		code, _, _ = sec.get("/alerts/sla?org_id=" + id(e.HospB.ID))
		if code != http.StatusNotFound {
			t.Errorf("another hospital's SLA: %d, want 404", code)
		}
		code, _, _ = sec.post("/alerts/sla", url.Values{"org_id": {id(e.HospB.ID)}, "hours_high": {"1"}})
		if code != http.StatusNotFound {
			t.Errorf("setting another hospital's SLA: %d, want 404", code)
		}
		aud := e.newBrowser()
		aud.login("auditor")
		code, body, _ = aud.get("/alerts/sla?org_id=" + id(e.HospA.ID))
		mustContain(t, code, body, http.StatusOK, `id="sla-high"`)
		mustNotContain(t, body, `id="sla-save"`)
		if code, _, _ = aud.post("/alerts/sla", url.Values{"org_id": {id(e.HospA.ID)}, "hours_high": {"1"}}); code != http.StatusForbidden {
			t.Errorf("the auditor set the SLA: %d, want 403", code)
		}
	})
}
