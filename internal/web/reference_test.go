package web

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestReferenceAPI: reference CSVs are imported by the roles that manage reference data,
// into the caller's hospital only; rejected rows are reported by line and column without
// their values; the summary counts what was imported.
func TestReferenceAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		vars := map[string]string{"hospB": strconv.FormatInt(e.HospB.ID, 10)}
		const staff = "staff_id,account,name,department,role,address\nS1,u1,王芳,心内科,nurse,东城区和平里1号1-101\nS2,u2,李强,骨科,doctor,西城区建设路2号2-202\n"
		const patients = "patient_id,name,address,vip,deceased_on,staff_id\nP1,王伟,东城区和平里1号1-101,false,,\nP9秘密,赵敏,朝阳区幸福路3号3-303,maybe秘密,,\n"
		const enc = "patient_id,staff_id,department,start,end\nP1,S1,,2026-03-01 08:00:00,\n"
		values := []string{"王芳", "王伟", "和平里", "P9秘密", "maybe秘密", "赵敏"}
		csv := func(s string) bodyFunc { return rawBody(s, "text/csv") }
		e.runScenarios(t, vars, []apiScenario{
			{name: "import staff", method: "POST", url: "/api/v1/reference/staff", user: "secofficer", body: csv(staff),
				status: http.StatusOK, expect: []string{`"imported":2`, `"error_count":0`, `"errors":[]`}, notExpect: values},
			{name: "patients with a bad row", method: "POST", url: "/api/v1/reference/patients", user: "privacy", body: csv(patients),
				status: http.StatusOK, expect: []string{`"imported":1`, `"line":3`, `"column":"vip"`, `"code":"not_bool"`}, notExpect: values},
			{name: "encounters", method: "POST", url: "/api/v1/reference/encounters", user: "secofficer", body: csv(enc),
				status: http.StatusOK, expect: []string{`"imported":1`}},
			{name: "a header of another kind", method: "POST", url: "/api/v1/reference/patients", user: "secofficer", body: csv(staff),
				status: http.StatusBadRequest, errCode: "invalid", notExpect: values},
			{name: "an unknown kind", method: "POST", url: "/api/v1/reference/doctors", user: "secofficer", body: csv(staff),
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "into hospital B", method: "POST", url: "/api/v1/reference/staff?org_id={hospB}", user: "secofficer", body: csv(staff),
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "the auditor may not import", method: "POST", url: "/api/v1/reference/staff", user: "auditor", body: csv(staff),
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "summary", method: "GET", url: "/api/v1/reference/summary", user: "auditor",
				status: http.StatusOK, expect: []string{`"staff":2`, `"patients":1`, `"encounters":1`, `"open_encounters":1`}, notExpect: values},
			{name: "summary of hospital B", method: "GET", url: "/api/v1/reference/summary?org_id={hospB}", user: "auditor",
				status: http.StatusNotFound, errCode: "not_found"},
		})
	})
}
