package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// dataflowPageForm is the flow form as a browser submits it: a sound settlement upload
// from business system asset of hospital org.
func dataflowPageForm(org, asset int64) url.Values {
	return url.Values{"org_id": {strconv.FormatInt(org, 10)}, "name": {"Settlement upload"},
		"source_asset_ids": {strconv.FormatInt(asset, 10)}, "recipient_name": {"City medical insurance bureau"},
		"recipient_kind": {"medical_insurance"}, "level_payment": {"3"}, "level_personal": {"3"}, "level_health": {""},
		"purpose": {"settlement"}, "legal_basis": {"legal_obligation"}, "agreement_ref": {"YB-2025-01"},
		"agreement_signed": {"2025-01-01"}, "agreement_expires": {"2027-12-31"}, "deidentification": {"none"},
		"deidentification_note": {""}, "transfer": {"sm4"}, "frequency": {"daily"}, "volume": {"3000 records"},
		"retention": {"5 years"}, "status": {"active"}}
}

// TestDataflowPages: the register and a flow's page, in English and in Chinese, with the
// deficiencies highlighted, the counts and the linked risk; a flow registered through
// the form (a field error first), edited until deficient (its risk raised), ended with
// its destruction record (then read-only); documents uploaded; a register imported with
// a wrong line listed, then a right one; hospital B's flow is neither listed, shown nor
// changed, and its systems are not offered.
func TestDataflowPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		emr, err := e.Assets.Create(ctx, actor.System(), asset.Input{OrgID: e.HospA.ID, Code: "A-EMR", Name: "EMR system A",
			Kind: "business_system", Zone: "internal", Lifecycle: "in_service"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Assets.Create(ctx, actor.System(), asset.Input{OrgID: e.HospB.ID, Code: "B-EMR", Name: productBName,
			Kind: "business_system", Zone: "internal", Lifecycle: "in_service"}); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"a": strconv.FormatInt(e.DataflowA.ID, 10), "b": strconv.FormatInt(e.DataflowB.ID, 10)}
		form := dataflowPageForm(e.HospA.ID, emr.ID)
		noCategories := dataflowPageForm(e.HospA.ID, emr.ID)
		noCategories.Del("level_payment")
		noCategories.Del("level_personal")
		clear := dataflowPageForm(e.HospA.ID, emr.ID)
		clear.Set("transfer", "none")
		e.runPages(t, vars, []pageScenario{
			{name: "the register", user: "auditor", method: "GET", path: "/dataflows", status: http.StatusOK,
				expect: []string{`id="compliance-nav-dataflows"`, `class="on"`, `id="dataflow-{a}" class="deficient"`, "Insurer feed A",
					"no data-sharing agreement on record", "1 flows, 1 deficient", "Commercial insurer"},
				notExpect: append([]string{`id="dataflow-new"`, `id="dataflow-import-form"`}, leakMarks...)},
			{name: "filtered to another kind", user: "auditor", method: "GET", path: "/dataflows?recipient_kind=pharmacy", status: http.StatusOK,
				expect: []string{`id="dataflow-empty"`}, notExpect: []string{"Insurer feed A"}},
			{name: "a bad level", user: "auditor", method: "GET", path: "/dataflows?level=9", status: http.StatusBadRequest,
				expect: []string{`role="alert"`}},
			{name: "a flow", user: "auditor", method: "GET", path: "/dataflows/{a}", status: http.StatusOK,
				expect: []string{`id="deficiency-no_encryption"`, "the data is not encrypted in transit", `class="risk-backlink"`,
					"Data flow Insurer feed A to Sunshine Life is deficient", "No destruction record."},
				notExpect: []string{`id="dataflow-form"`, `id="dataflow-end-form"`, `id="dataflow-attach-form"`}},
			{name: "another hospital's flow", user: "auditor", method: "GET", path: "/dataflows/{b}", status: http.StatusNotFound,
				notExpect: leakMarks},
			{name: "the app operator", user: "appops", method: "GET", path: "/dataflows", status: http.StatusForbidden},
			{name: "the auditor registers nothing", user: "auditor", method: "GET", path: "/dataflows/new", status: http.StatusForbidden},

			{name: "the writer's register", user: "secofficer", method: "GET", path: "/dataflows", status: http.StatusOK,
				expect: []string{`id="dataflow-new"`, `id="dataflow-import-form"`, `enctype="multipart/form-data"`}},
			{name: "the form", user: "secofficer", method: "GET", path: "/dataflows/new", status: http.StatusOK,
				expect:    []string{`id="dataflow-form"`, "EMR system A", "Not sent", "Public health data", "Level 5", "National cryptography"},
				notExpect: leakMarks},
			{name: "no category", user: "secofficer", method: "POST", path: "/dataflows", form: noCategories, status: http.StatusBadRequest,
				expect: []string{`id="err-categories"`, `value="Settlement upload"`, `role="alert"`}},
			{name: "B's flow is not edited", user: "secofficer", method: "POST", path: "/dataflows/{b}", form: form, status: http.StatusNotFound},
			{name: "registered", user: "secofficer", method: "POST", path: "/dataflows", form: form, status: http.StatusSeeOther,
				location: "/dataflows/", after: func(t *testing.T, _ string, h http.Header) {
					loc := h.Get("Location")
					vars["new"] = strings.TrimPrefix(loc[:strings.Index(loc, "?")], "/dataflows/")
				}},
			{name: "the new flow, sound, with its edit form", user: "secofficer", method: "GET", path: "/dataflows/{new}?flash=flash.dataflow.created",
				status: http.StatusOK, expect: []string{"The data flow is registered.", "no deficiency", `id="dataflow-form"`, `action="/dataflows/{new}"`,
					`value="Settlement upload"`, `name="source_asset_ids" value="` + strconv.FormatInt(emr.ID, 10) + `" checked`,
					`<option value="3" selected>Level 3</option>`, `value="2027-12-31"`, `id="dataflow-end-form"`, `id="dataflow-attach-form"`}},
			{name: "edited to travel in clear", user: "secofficer", method: "POST", path: "/dataflows/{new}", form: clear, status: http.StatusSeeOther,
				location: "/dataflows/{new}?flash=flash.dataflow.saved"},
			{name: "deficient, with its risk", user: "secofficer", method: "GET", path: "/dataflows/{new}", status: http.StatusOK,
				expect: []string{`id="deficiency-no_encryption"`, `class="risk-backlink"`, "Data flow Settlement upload to City medical insurance bureau is deficient"}},
			{name: "a partial destruction record", user: "secofficer", method: "POST", path: "/dataflows/{new}/end",
				form: url.Values{"destroyed_by": {"Bureau IT"}}, status: http.StatusBadRequest, expect: []string{`id="err-destroyed_at"`}},
			{name: "ended with the destruction", user: "secofficer", method: "POST", path: "/dataflows/{new}/end",
				form:   url.Values{"destroyed_by": {"Bureau IT"}, "destroyed_at": {"2026-04-30"}, "verification": {"certificate and spot check"}},
				status: http.StatusSeeOther, location: "/dataflows/{new}?flash=flash.dataflow.ended"},
			{name: "ended, read-only", user: "secofficer", method: "GET", path: "/dataflows/{new}", status: http.StatusOK,
				expect:    []string{"Destroyed on 2026-04-30 by Bureau IT; verified by: certificate and spot check", `id="dataflow-readonly"`, "Ended"},
				notExpect: []string{`id="dataflow-form"`, `id="dataflow-end-form"`}},
			{name: "an ended flow is not edited", user: "secofficer", method: "POST", path: "/dataflows/{new}", form: form,
				status: http.StatusConflict, expect: []string{"The data flow has ended."}},

			{name: "in Chinese", user: "secofficer", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the form in Chinese", user: "secofficer", method: "GET", path: "/dataflows/new", status: http.StatusOK,
				expect: []string{"登记数据共享", "来源业务系统", "不发送", "协议到期日期", "接收方保存期限", "提交登记"}},
			{name: "a field error in Chinese", user: "secofficer", method: "POST", path: "/dataflows", form: noCategories, status: http.StatusBadRequest,
				expect: []string{`id="err-categories"`}},
			{name: "the ended flow in Chinese", user: "secofficer", method: "GET", path: "/dataflows/{new}", status: http.StatusOK,
				expect: []string{"该数据共享已终止，登记内容保持原样", "已终止"}},
			{name: "the register in Chinese", user: "auditor", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the register in Chinese", user: "auditor", method: "GET", path: "/dataflows", status: http.StatusOK,
				expect: []string{"数据共享登记", "未登记数据共享协议", "共 1 项，其中 1 项有缺陷", "商业保险", "第4级"}},
			{name: "a flow in Chinese", user: "auditor", method: "GET", path: "/dataflows/{a}", status: http.StatusOK,
				expect: []string{"传输过程未加密", "尚无数据销毁记录", "关联风险"}},
		})

		// Documents and import, through multipart forms as the pages send them.
		b := e.newBrowser()
		b.login("privacy")
		page := "/dataflows/" + vars["a"]
		b.get(page)
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
		if code, _, h := b.upload(page+"/attachments", "agreement.pdf", pdf); code != http.StatusSeeOther || h.Get("Location") != page+"?flash=flash.dataflow.attached" {
			t.Fatalf("document: %d %q", code, h.Get("Location"))
		}
		if _, body, _ := b.get(page); !strings.Contains(body, "agreement.pdf") || strings.Contains(body, `id="dataflow-no-documents"`) {
			t.Errorf("the page does not list the document")
		}
		if code, body, _ := b.upload(page+"/attachments", "agreement.pdf", []byte("<html><script>alert(1)</script>")); code != http.StatusBadRequest ||
			!strings.Contains(body, `id="err-file"`) {
			t.Errorf("HTML named .pdf: %d", code)
		}
		if code, _, _ := b.upload("/dataflows/"+vars["b"]+"/attachments", "agreement.pdf", pdf); code != http.StatusNotFound {
			t.Errorf("a document for B's flow: %d", code)
		}
		header := "name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n"
		good := "Monthly stats feed,Health commission,regulator,public_health:2,monthly statistics,legal_obligation,A-EMR\n"
		bad := header + good + "Bad,Somebody,insurer,health:9,claims,contract,A-EMR\nWorse,Other,pharmacy,medical:3,orders,contract,NOPE\n"
		b.get("/dataflows")
		code, body, _ := b.upload("/dataflows/import", "register.csv", []byte(bad))
		for _, want := range []string{`id="dataflow-import-errors"`, "<td>3</td><td>categories</td><td>A data level is from 1 to 5.</td>",
			"<td>4</td><td>source_assets</td><td>No asset of this hospital has code NOPE.</td>", "2 lines of the file are wrong; nothing was imported."} {
			if !strings.Contains(body, want) {
				t.Errorf("import with wrong lines (%d) lacks %q", code, want)
			}
		}
		if code != http.StatusBadRequest || strings.Contains(body, "Monthly stats feed") {
			t.Errorf("import with wrong lines: %d, or a line was imported", code)
		}
		if code, _, _ := b.post("/lang", url.Values{"lang": {"zh-CN"}}); code != http.StatusSeeOther {
			t.Fatal("zh-CN")
		}
		b.get("/dataflows")
		code, body, _ = b.upload("/dataflows/import", "register.csv", []byte(bad))
		for _, want := range []string{"<td>3</td><td>数据类别及级别</td><td>数据级别须为第1级至第5级。</td>", "行号", "来源系统"} {
			if !strings.Contains(body, want) {
				t.Errorf("import with wrong lines in Chinese (%d) lacks %q", code, want)
			}
		}
		code, _, h := b.upload("/dataflows/import", "register.csv", []byte(header+good))
		if code != http.StatusSeeOther || h.Get("Location") != "/dataflows?flash=flash.dataflow.imported" {
			t.Fatalf("import: %d %q", code, h.Get("Location"))
		}
		if _, body, _ := b.get("/dataflows?flash=flash.dataflow.imported"); !strings.Contains(body, "登记表已导入") || !strings.Contains(body, "Monthly stats feed") {
			t.Errorf("the imported flow is not listed")
		}
	})
}
