package web

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// seedDataflows gives each hospital a deficient flow to an insurer (no agreement, no
// encryption, identified level-4 health data under a contract), which raises a risk.
// Hospital B's is named after its product (productBName), which leakMarks catches.
func (e *testEnv) seedDataflows() {
	t := e.t
	t.Helper()
	for _, h := range []struct {
		org   int64
		asset int64
		name  string
		flow  *dataflow.Flow
	}{{e.HospA.ID, e.AssetA.ID, "Insurer feed A", &e.DataflowA}, {e.HospB.ID, e.AssetB.ID, productBName, &e.DataflowB}} {
		var err error
		*h.flow, err = e.Dataflows.Create(context.Background(), actor.System(), dataflow.Input{OrgID: h.org, Name: h.name,
			SourceAssetIDs: []int64{h.asset}, RecipientName: "Sunshine Life", RecipientKind: dataflow.KindInsurer,
			Categories: []dataflow.Category{{Category: "health", Level: 4}}, Purpose: "direct claims", LegalBasis: dataflow.BasisContract,
			Transfer: dataflow.TransferNone, Lang: "en"})
		if err != nil {
			t.Fatalf("seed data flow %s: %v", h.name, err)
		}
	}
}

func TestDataflowAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"a": fmt.Sprint(e.DataflowA.ID), "b": fmt.Sprint(e.DataflowB.ID), "asset": fmt.Sprint(e.AssetA.ID)}
		save := func(key string) func(t *testing.T, body []byte, _ http.Header) {
			return func(t *testing.T, body []byte, _ http.Header) {
				vars[key] = fmt.Sprint(decode[struct {
					ID int64 `json:"id"`
				}](t, body).ID)
			}
		}
		sound := dataflow.Input{Name: "Settlement upload", SourceAssetIDs: []int64{e.AssetA.ID}, RecipientName: "City medical insurance bureau",
			RecipientKind: dataflow.KindMedicalInsurance, Categories: []dataflow.Category{{Category: "payment", Level: 3}, {Category: "personal", Level: 3}},
			Purpose: "settlement", LegalBasis: dataflow.BasisLegalObligation, AgreementRef: "YB-2025-01", AgreementSigned: "2025-01-01",
			AgreementExpires: "2027-12-31", Transfer: dataflow.TransferSM4}
		bad := sound
		bad.AgreementExpires = "2026-04-30" // expired the day before the register's clock
		pdf := "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
		e.runScenarios(t, vars, []apiScenario{
			{name: "the register", method: "GET", url: "/api/v1/dataflows", user: "auditor", status: http.StatusOK,
				expect: []string{"Insurer feed A", `"total":1`, `"deficiencies":["no_agreement","no_encryption","no_deidentification"]`}, notExpect: leakMarks},
			{name: "the app operator does not read the register", method: "GET", url: "/api/v1/dataflows", user: "appops",
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "the auditor does not register flows", method: "POST", url: "/api/v1/dataflows", user: "auditor",
				body: jsonBody(sound), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "IT operations read but do not write", method: "PUT", url: "/api/v1/dataflows/{a}", user: "itops",
				body: jsonBody(sound), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "a bad kind", method: "POST", url: "/api/v1/dataflows", user: "secofficer",
				body: jsonBody(dataflow.Input{Name: "x", RecipientName: "y", RecipientKind: "friend"}), status: http.StatusBadRequest,
				errCode: "invalid", expect: []string{`"field":"recipient_kind"`}},
			{name: "another hospital's asset", method: "POST", url: "/api/v1/dataflows", user: "secofficer",
				body:   jsonBody(func() dataflow.Input { in := sound; in.SourceAssetIDs = []int64{e.AssetB.ID}; return in }()),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"source_asset_ids"`}, notExpect: leakMarks},
			{name: "register a sound flow", method: "POST", url: "/api/v1/dataflows", user: "privacy", body: jsonBody(sound),
				status: http.StatusCreated, expect: []string{`"hospital":"Hospital A"`, `"level":3`, `"deficiencies":[]`, `"status":"active"`},
				after: save("sound")},
			{name: "a sound flow raises no risk", method: "GET", url: "/api/v1/risks/of?module=dataflow&id={sound}", user: "auditor",
				status: http.StatusOK, expect: []string{`"total":0`}},
			{name: "its agreement lapses", method: "PUT", url: "/api/v1/dataflows/{sound}", user: "secofficer", body: jsonBody(bad),
				status: http.StatusOK, expect: []string{`"deficiencies":["agreement_expired"]`}},
			{name: "which raises a risk in the caller's language", method: "GET", url: "/api/v1/risks/of?module=dataflow&id={sound}",
				user: "auditor", status: http.StatusOK, expect: []string{`"total":1`, "the data-sharing agreement has expired", `"category":"third_party"`}},
			{name: "filter deficient", method: "GET", url: "/api/v1/dataflows?deficient=true&level=3", user: "auditor", status: http.StatusOK,
				expect: []string{"Settlement upload", `"total":1`}, notExpect: []string{"Insurer feed A"}},
			{name: "filter by recipient kind", method: "GET", url: "/api/v1/dataflows?recipient_kind=insurer", user: "secofficer",
				status: http.StatusOK, expect: []string{"Insurer feed A", `"total":1`}, notExpect: []string{"Settlement upload"}},
			{name: "a bad level", method: "GET", url: "/api/v1/dataflows?level=9", user: "regulator", status: http.StatusBadRequest,
				errCode: "invalid", expect: []string{`"field":"level"`}},
			{name: "another hospital's flow", method: "GET", url: "/api/v1/dataflows/{b}", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},
			{name: "attach the agreement", method: "POST", url: "/api/v1/dataflows/{a}/attachments?name=agreement.pdf", user: "secofficer",
				body: rawBody(pdf, "application/pdf"), status: http.StatusCreated, expect: []string{`"kind":"pdf"`, `"sha256":"`}, after: save("doc")},
			{name: "HTML is not an agreement", method: "POST", url: "/api/v1/dataflows/{a}/attachments?name=agreement.pdf", user: "secofficer",
				body: rawBody("<html><script>alert(1)</script></html>", "application/pdf"), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"file"`}},
			{name: "download it", method: "GET", url: "/api/v1/dataflows/{a}/attachments/{doc}", user: "auditor", status: http.StatusOK,
				expect: []string{"%PDF-1.4"}},
			{name: "a partial destruction record", method: "POST", url: "/api/v1/dataflows/{a}/end", user: "secofficer",
				body: jsonBody(dataflow.EndInput{By: "Sunshine Life IT"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"destroyed_at"`}},
			{name: "end with the destruction record", method: "POST", url: "/api/v1/dataflows/{a}/end", user: "secofficer",
				body:   jsonBody(dataflow.EndInput{By: "Sunshine Life IT", At: "2026-04-30", Verification: "certificate and audit"}),
				status: http.StatusOK, expect: []string{`"status":"ended"`, `"deficiencies":[]`, `"verification":"certificate and audit"`}},
			{name: "an ended flow is not edited", method: "PUT", url: "/api/v1/dataflows/{a}", user: "secofficer", body: jsonBody(sound),
				status: http.StatusConflict},
			{name: "import a register with a wrong line", method: "POST", url: "/api/v1/dataflows/import?name=r.csv", user: "secofficer",
				body: rawBody("name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n"+
					"Stats,Health commission,regulator,public_health:2,statistics,legal_obligation,A-001\n"+
					"Courier,Express Co,logistics,personal:2,delivery,contract,NO-SUCH\n", "text/csv"),
				status: http.StatusOK, expect: []string{`"created":0`, `"line":3`, `"field":"source_assets"`}},
			{name: "import a register", method: "POST", url: "/api/v1/dataflows/import?name=r.csv", user: "secofficer",
				body:   rawBody("名称,接收方,接收方类型,数据类别,用途,法律依据,来源系统\n统计月报,卫健委,监管部门,公共卫生数据:2,月报,法定义务,A-001\n", "text/csv"),
				status: http.StatusCreated, expect: []string{`"created":1`, `"errors":[]`}},
			{name: "import into another hospital", method: "POST", url: fmt.Sprintf("/api/v1/dataflows/import?org_id=%d", e.HospB.ID),
				user: "secofficer", body: rawBody("name\n", "text/csv"), status: http.StatusNotFound, notExpect: leakMarks},
		})
	})
}
