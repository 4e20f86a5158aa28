package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

// supplySBOM is the CycloneDX document of the tests: requests 2.30.0 (two advisories that
// are aliases of each other), github.com/example/lib v1.1.0 (one advisory, GPL-3.0-only),
// lodash 4.17.20 (no advisory until testdata/supply/osv-new) and a component without a
// purl.
func supplySBOM(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/supply/app-1.0.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// part is one part of a multipart body: a field, or a file when filename is set.
type mpPart struct {
	field, filename string
	data            []byte
}

// multipartBody encodes parts; the file names are written as given, folders included.
func multipartBody(t *testing.T, parts ...mpPart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename == "" {
			w, err = mw.CreateFormField(p.field)
		} else {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", "application/octet-stream")
			w, err = mw.CreatePart(h)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// raw performs an API request with a given body and content type as user ("" = none) or
// with token tok when user starts with "token:".
func (e *testEnv) raw(method, path, user string, body io.Reader, contentType string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(user, "token:"):
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(user, "token:"))
	case user != "":
		req.Header.Set("Authorization", "Bearer "+e.Tokens[user])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(e.t, http.DefaultClient, req)
}

// must decodes a successful API answer into v, failing on another status.
func must[T any](t *testing.T, code int, body []byte, want int) T {
	t.Helper()
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, body)
	}
	return v
}

// noLeak fails when body shows hospital B's software or an internal error.
func noLeak(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, s := range leakMarks {
		if bytes.Contains(body, []byte(s)) {
			t.Fatalf("%s: response contains %q: %s", what, s, body)
		}
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fileOf(name string, data []byte) delivery.File {
	return delivery.File{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// TestSupplyAPIScenario walks the supply chain through the API as hospital A's security
// officer: vendor → product → version → SBOM → findings → decision → gate → risk view →
// exposure → SBOM check → delivery check → advisory upload → alert. It is a table of
// requests (apiScenario, after pocketbase's tests/api.go), each row with what the answer
// must and must not contain; rows run in order and later rows use what earlier ones
// created (vars).
func TestSupplyAPIScenario(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		const sec = "secofficer"
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		vars := map[string]string{"vendorB": id(e.VendorB.ID), "hospB": id(e.HospB.ID), "alertB": id(e.AlertB.ID)}
		var (
			vendor           supply.Vendor
			product          supply.Product
			version          supply.Version
			before           supply.RiskView
			manifest         []byte
			adv              []byte
			policyJSON       []byte
			artefact         = []byte("智慧门诊 1.0 server build")
			expiry           = time.Now().AddDate(0, 0, 30).Format("2006-01-02")
			got              = map[string]supply.Finding{}
			versionLinkAsset = func(asset int64) bodyFunc {
				return jsonBody(map[string]any{"version": "1.0", "asset_ids": []int64{asset}})
			}
			sbom = func(ct string) bodyFunc {
				return func(t *testing.T) (io.Reader, string) { return bytes.NewReader(supplySBOM(t)), ct }
			}
			delivery = func(tampered bool) bodyFunc {
				return func(t *testing.T) (io.Reader, string) {
					file := artefact
					if tampered {
						file = []byte("tampered")
					}
					return multipartBody(t, mpPart{"manifest", "manifest.json", manifest}, mpPart{"files", "server/app.tar.gz", file},
						mpPart{"files", "app.cdx.json", supplySBOM(t)})
				}
			}
		)
		e.runScenarios(t, vars, []apiScenario{
			// Vendor, with the organisation defaulting to the caller's.
			{name: "create vendor", method: "POST", url: "/api/v1/vendors", user: sec,
				body: jsonBody(map[string]any{"name": "某某医疗软件有限公司", "uscc": "91350100M000100Y43", "contact_name": "张工",
					"contact_email": "sec@vendor.example", "approved": true}),
				status: http.StatusCreated, expect: []string{`"name":"某某医疗软件有限公司"`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					vendor = decode[supply.Vendor](t, body)
					if vendor.OrgID != e.HospA.ID || vendor.OrgName != "Hospital A" {
						t.Fatalf("vendor organisation = %d %q, want hospital A", vendor.OrgID, vendor.OrgName)
					}
					vars["vendor"] = id(vendor.ID)
				}},
			{name: "vendor with a bad USCC", method: "POST", url: "/api/v1/vendors", user: sec,
				body:   jsonBody(map[string]any{"name": "Bad USCC Ltd", "uscc": "91350100M000100Y44"}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"uscc"`}},
			{name: "contract", method: "POST", url: "/api/v1/vendors/{vendor}/contracts", user: sec,
				body: jsonBody(map[string]any{"title": "运维合同", "number": "HT-2026-001", "starts_on": "2026-01-01",
					"ends_on": "2026-12-31"}),
				status: http.StatusCreated, after: decodes[supply.Contract]},
			{name: "vendor key with a bad fingerprint", method: "POST", url: "/api/v1/vendors/{vendor}/keys", user: sec,
				body: jsonBody(map[string]any{"fingerprint": "zz", "label": "x"}), status: http.StatusBadRequest, errCode: "invalid"},
			{name: "key for B's vendor", method: "POST", url: "/api/v1/vendors/{vendorB}/keys", user: sec,
				body:   jsonBody(map[string]any{"fingerprint": strings.Repeat("ab", 32)}),
				status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},

			// Product and version; hospital B's asset cannot be linked.
			{name: "create product", method: "POST", url: "/api/v1/products", user: sec,
				body: func(t *testing.T) (io.Reader, string) {
					return jsonBody(map[string]any{"vendor_id": vendor.ID, "name": "智慧门诊", "source": "purchased"})(t)
				},
				status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) {
					product = decode[supply.Product](t, body)
					vars["product"] = id(product.ID)
				}},
			{name: "version linking B's asset", method: "POST", url: "/api/v1/products/{product}/versions", user: sec,
				body: versionLinkAsset(e.AssetB.ID), status: http.StatusBadRequest, errCode: "invalid", notExpect: leakMarks},
			{name: "create version", method: "POST", url: "/api/v1/products/{product}/versions", user: sec,
				body: versionLinkAsset(e.AssetA.ID), status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) {
					version = decode[supply.Version](t, body)
					vars["version"] = id(version.ID)
				}},

			// The SBOM, raw; a broken one says where it broke and changes nothing.
			{name: "broken SBOM", method: "POST", url: "/api/v1/versions/{version}/sbom", user: sec,
				body:   rawBody(`{"bomFormat":"CycloneDX","components":[`, "application/json"),
				status: http.StatusBadRequest, errCode: "invalid_sbom", notExpect: leakMarks},
			{name: "import SBOM", method: "POST", url: "/api/v1/versions/{version}/sbom", user: sec,
				body: sbom("application/vnd.cyclonedx+json"), status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					rep := decode[supply.ImportReport](t, body)
					if rep.Components != 4 || rep.Matchable != 3 || rep.Findings != 3 || rep.Licences["denied"] != 1 {
						t.Fatalf("import report = %+v", rep)
					}
				}},
			{name: "download SBOM", method: "GET", url: "/api/v1/versions/{version}/sbom", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, h http.Header) {
					if !bytes.Equal(body, supplySBOM(t)) || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
						t.Fatalf("SBOM download: %v", h)
					}
				}},
			{name: "components", method: "GET", url: "/api/v1/versions/{version}/components", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if comps := decode[listResponse[supply.Component]](t, body); comps.Total != 4 {
						t.Fatalf("components: %s", body)
					}
				}},

			// Findings, by purl and advisory id, only hospital A's.
			{name: "findings of the version", method: "GET", url: "/api/v1/findings?version_id={version}", user: sec,
				status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					findings := decode[listResponse[supply.Finding]](t, body)
					for _, f := range findings.Items {
						got[f.VulnID+" "+f.PURL] = f
					}
					for _, k := range []string{"GHSA-test-0001 pkg:pypi/requests@2.30.0", "PYSEC-test-0001 pkg:pypi/requests@2.30.0",
						"GO-test-0002 pkg:golang/github.com/example/lib@v1.1.0"} {
						if _, ok := got[k]; !ok {
							t.Errorf("finding %s missing: %s", k, body)
						}
					}
					if findings.Total != 3 {
						t.Errorf("version findings total = %d, want 3", findings.Total)
					}
					vars["ghsa"] = id(got["GHSA-test-0001 pkg:pypi/requests@2.30.0"].ID)
					vars["pysec"] = id(got["PYSEC-test-0001 pkg:pypi/requests@2.30.0"].ID)
				}},
			{name: "all findings", method: "GET", url: "/api/v1/findings?state=all&limit=500", user: sec, status: http.StatusOK,
				notExpect: leakMarks,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if all := decode[listResponse[supply.Finding]](t, body); all.Total != 6 {
						t.Errorf("findings in hospital A = %d, want 6 (3 seeded, 3 new)", all.Total)
					}
				}},
			{name: "unknown severity", method: "GET", url: "/api/v1/findings?severity=catastrophic", user: sec,
				status: http.StatusBadRequest, errCode: "invalid"},

			// A decision: needs finding.decide, a reason and an expiry; it covers the alias.
			{name: "decision without finding.decide", method: "POST", url: "/api/v1/findings/{ghsa}/decision", user: "itops",
				body:   jsonBody(map[string]any{"state": "accepted", "reason": "x", "expires_at": "2026-12-31"}),
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "decision without expiry", method: "POST", url: "/api/v1/findings/{ghsa}/decision", user: sec,
				body:   jsonBody(map[string]any{"state": "accepted", "reason": "内网隔离"}),
				status: http.StatusBadRequest, errCode: "invalid"},
			{name: "decision with a bad expiry", method: "POST", url: "/api/v1/findings/{ghsa}/decision", user: sec,
				body:   jsonBody(map[string]any{"state": "accepted", "reason": "内网隔离", "expires_at": "next week"}),
				status: http.StatusBadRequest, errCode: "invalid"},
			{name: "decision", method: "POST", url: "/api/v1/findings/{ghsa}/decision", user: sec,
				body:   jsonBody(map[string]any{"state": "accepted", "reason": "内网隔离，补丁排期中", "expires_at": expiry}),
				status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					decided := decode[supply.Finding](t, body)
					if decided.State != "accepted" || decided.DecidedBy != sec || decided.ExpiresAt == nil ||
						decided.ExpiresAt.Local().Format("2006-01-02") != expiry {
						t.Fatalf("decided finding = %+v", decided)
					}
				}},
			{name: "the alias shares the decision", method: "GET", url: "/api/v1/findings/{pysec}", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if f := decode[supply.Finding](t, body); f.State != "accepted" {
						t.Errorf("the alias PYSEC-test-0001 did not share the decision: %s", body)
					}
				}},

			// The go-live gate fails on the GPL component and the missing delivery check.
			{name: "go-live gate", method: "POST", url: "/api/v1/versions/{version}/gates/go-live", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					res := decode[supply.GateResult](t, body)
					rules := map[string]bool{}
					for _, r := range res.Verdict.Reasons {
						rules[r.Rule] = true
					}
					if res.Verdict.Passed || !rules["block_denied_licences"] || !rules["require_delivery_verified"] {
						t.Fatalf("go-live verdict = %+v", res.Verdict)
					}
				}},
			{name: "unknown gate", method: "POST", url: "/api/v1/versions/{version}/gates/no-such-gate", user: sec,
				status: http.StatusNotFound, errCode: "not_found"},

			// Gates and the licence policy of the organisation.
			{name: "gate without permission", method: "PUT", url: "/api/v1/gates", user: "itops",
				body: jsonBody(map[string]any{"name": "strict", "stage": "go_live"}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "save gate", method: "PUT", url: "/api/v1/gates", user: sec,
				body: jsonBody(map[string]any{"name": "strict", "stage": "go_live",
					"rules": map[string]any{"block_severity": "low", "require_sbom": true}}),
				status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if g := decode[supply.Gate](t, body); g.OrgID != e.HospA.ID {
						t.Fatalf("gate saved for organisation %d", g.OrgID)
					}
				}},
			{name: "gates", method: "GET", url: "/api/v1/gates", user: sec, status: http.StatusOK, expect: []string{`"strict"`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					if gs := decode[listResponse[supply.Gate]](t, body); gs.Total != 4 {
						t.Fatalf("gates: %s", body)
					}
				}},
			{name: "gates of B", method: "GET", url: "/api/v1/gates?org_id={hospB}", user: sec, status: http.StatusNotFound, errCode: "not_found"},
			{name: "default licence policy", method: "GET", url: "/api/v1/licence-policy", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if def := decode[policyView](t, body); len(def.Deny) == 0 {
						t.Fatalf("default licence policy denies nothing: %s", body)
					}
				}},
			{name: "licence policy as YAML", method: "PUT", url: "/api/v1/licence-policy", user: sec,
				body:   rawBody("allow: [MIT, Apache-2.0, GPL-3.0-only]\nreview: []\ndeny: []\n", "application/yaml"),
				status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if pol := decode[policyView](t, body); len(pol.Allow) != 3 {
						t.Fatalf("policy set: %s", body)
					}
				}},
			{name: "licence policy with an unknown licence", method: "PUT", url: "/api/v1/licence-policy", user: sec,
				body: rawBody(`{"allow":["No-Such-Licence-1.0"]}`, "application/json"), status: http.StatusBadRequest, errCode: "invalid"},
			// GET answers what PUT accepts.
			{name: "licence policy get", method: "GET", url: "/api/v1/licence-policy", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) { policyJSON = body }},
			{name: "licence policy put back", method: "PUT", url: "/api/v1/licence-policy", user: sec,
				body:   func(t *testing.T) (io.Reader, string) { return bytes.NewReader(policyJSON), "application/json" },
				status: http.StatusOK, after: decodes[policyView]},
			{name: "GPL allowed now", method: "GET", url: "/api/v1/versions/{version}/components", user: sec, status: http.StatusOK,
				notExpect: []string{`"license_verdict":"denied"`}},

			// The risk view counts hospital A only: the seeded product's 3 open findings and
			// the new product's Go finding; the requests pair is accepted.
			{name: "risk view", method: "GET", url: "/api/v1/supply/risk", user: sec, status: http.StatusOK, notExpect: leakMarks,
				after: func(t *testing.T, body []byte, _ http.Header) {
					rv := decode[supply.RiskView](t, body)
					states := map[string]int{}
					for _, c := range rv.ByState {
						states[c.Key] = c.N
					}
					if rv.Vendors != 2 || rv.Products != 2 || rv.Versions != 2 || rv.OpenFindings != 4 || states["accepted"] != 2 {
						t.Errorf("risk view = vendors %d products %d versions %d open %d states %v", rv.Vendors, rv.Products, rv.Versions,
							rv.OpenFindings, states)
					}
					if len(rv.GateStatus) != 2 || rv.GateStatus[1].Key != "failed" || rv.GateStatus[1].N != 1 {
						t.Errorf("gate status = %+v", rv.GateStatus)
					}
				}},

			// Exposure of an advisory: both of A's versions and asset A-001, nothing of B.
			{name: "exposure", method: "GET", url: "/api/v1/vulns/GHSA-test-0001", user: sec, status: http.StatusOK,
				expect: []string{"CVE-2026-0001"}, notExpect: leakMarks,
				after: func(t *testing.T, body []byte, _ http.Header) {
					vr := decode[vulnResponse](t, body)
					if vr.Record == nil || vr.Record.Summary == "" || !strings.Contains(strings.Join(vr.Record.Aliases, ","), "CVE-2026-0001") {
						t.Fatalf("advisory record: %s", body)
					}
					if len(vr.Exposure.Affected) != 2 || len(vr.Exposure.Assets) != 1 || vr.Exposure.Assets[0].Code != "A-001" {
						t.Fatalf("exposure: %+v", vr.Exposure)
					}
				}},
			{name: "exposure by alias", method: "GET", url: "/api/v1/vulns/CVE-2026-0001", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if vr := decode[vulnResponse](t, body); vr.Record == nil || len(vr.Exposure.Affected) != 4 {
						t.Errorf("exposure by alias: %s", body)
					}
				}},
			{name: "unknown advisory", method: "GET", url: "/api/v1/vulns/GHSA-none-0000", user: sec, status: http.StatusNotFound, errCode: "not_found"},

			// A supplier's CI checks an SBOM with a read-only token: nothing is stored.
			{name: "check with a read-only token", method: "POST", url: "/api/v1/sbom/check?gate=procurement", user: "token:{ro}",
				before: func(t *testing.T) {
					ro, _, err := e.Auth.CreateToken(context.Background(), actor.System(), e.Users["auditor"].ID, "ci", auth.ScopeRead, 0)
					if err != nil {
						t.Fatal(err)
					}
					vars["ro"] = ro
					before, _ = e.Supply.Risk(context.Background(), actor.System())
				},
				body: sbom("application/json"), status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					chk := decode[supply.CheckResult](t, body)
					// lodash's npm has no advisory data and one component no purl: the JSON says so.
					if len(chk.Findings) != 3 || chk.Verdict == nil || chk.Verdict.Gate != "procurement" ||
						chk.Coverage.NotCovered != 2 || strings.Join(chk.Coverage.EcosystemsWithoutData, ",") != "npm" {
						t.Fatalf("check: %s", body)
					}
				}},
			{name: "check as SARIF", method: "POST", url: "/api/v1/sbom/check?format=sarif&source=app.cdx.json", user: "token:{ro}",
				body: sbom(""), status: http.StatusOK,
				after: func(t *testing.T, body []byte, h http.Header) {
					var sarif struct {
						Version string `json:"version"`
						Runs    []struct {
							Results []struct {
								RuleID string `json:"ruleId"`
							} `json:"results"`
						} `json:"runs"`
					}
					if h.Get("Content-Type") != "application/sarif+json" || json.Unmarshal(body, &sarif) != nil ||
						sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != 4 ||
						sarif.Runs[0].Results[3].RuleID != "medguard/coverage" {
						t.Fatalf("SARIF check: %v %s", h, body)
					}
				}},
			{name: "check in an unknown format", method: "POST", url: "/api/v1/sbom/check?format=xml", user: "token:{ro}",
				body: sbom(""), status: http.StatusBadRequest, errCode: "invalid"},
			{name: "import with a read-only token", method: "POST", url: "/api/v1/versions/{version}/sbom", user: "token:{ro}",
				body: sbom(""), status: http.StatusForbidden, errCode: "permission_denied",
				after: func(t *testing.T, _ []byte, _ http.Header) {
					if after, _ := e.Supply.Risk(context.Background(), actor.System()); after.Components != before.Components ||
						after.OpenFindings != before.OpenFindings {
						t.Errorf("the SBOM check stored something: %+v → %+v", before, after)
					}
				}},

			// Delivery checks: a matching delivery passes, a tampered file fails and raises an
			// alert. Folders in artifact names survive the upload.
			{name: "good delivery", method: "POST", url: "/api/v1/versions/{version}/deliveries", user: sec,
				before: func(t *testing.T) {
					m, err := deliveryBuild(vendor.Name, product.Name, artefact, supplySBOM(t))
					if err != nil {
						t.Fatal(err)
					}
					if manifest, err = m.Marshal(); err != nil {
						t.Fatal(err)
					}
				},
				body: delivery(false), status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if d := decode[supply.Delivery](t, body); !d.OK || d.SignatureStatus != "absent" {
						t.Fatalf("good delivery: %s", body)
					}
				}},
			{name: "tampered delivery", method: "POST", url: "/api/v1/versions/{version}/deliveries", user: sec,
				body: delivery(true), status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if d := decode[supply.Delivery](t, body); d.OK || len(d.Problems) == 0 {
						t.Fatalf("tampered delivery: %s", body)
					}
				}},
			{name: "broken manifest", method: "POST", url: "/api/v1/versions/{version}/deliveries", user: sec,
				body: func(t *testing.T) (io.Reader, string) {
					return multipartBody(t, mpPart{"manifest", "manifest.json", []byte(`{"schema":`)}, mpPart{"files", "a", artefact})
				},
				status: http.StatusBadRequest, errCode: "invalid_manifest"},
			{name: "no manifest", method: "POST", url: "/api/v1/versions/{version}/deliveries", user: sec,
				body: jsonBody(map[string]any{}), status: http.StatusBadRequest, errCode: "manifest_required"},
			{name: "version detail", method: "GET", url: "/api/v1/versions/{version}", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					vd := decode[versionResponse](t, body)
					if len(vd.Deliveries) != 2 || len(vd.Gates) != 1 || vd.Version.Components != 4 ||
						vd.Coverage.Components != 4 || vd.Coverage.Covered != 2 || vd.Coverage.NoData["npm"] != 1 {
						t.Fatalf("version detail: %s", body)
					}
				}},
			{name: "deliveries of the vendor", method: "GET", url: "/api/v1/deliveries?vendor_id={vendor}", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if l := decode[listResponse[supply.Delivery]](t, body); l.Total != 2 {
						t.Fatalf("deliveries: %s", body)
					}
				}},

			// A new advisory arrives as a zip upload; only the administrator may import it.
			{name: "advisory upload without permission", method: "POST", url: "/api/v1/vulndb/import", user: sec,
				before: func(t *testing.T) {
					var err error
					if adv, err = os.ReadFile("testdata/supply/osv-new/GHSA-test-0003.json"); err != nil {
						t.Fatal(err)
					}
				},
				body: func(t *testing.T) (io.Reader, string) {
					return multipartBody(t, mpPart{"file", "npm-all.zip", zipOf(t, map[string][]byte{"GHSA-test-0003.json": adv})})
				},
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "advisory upload", method: "POST", url: "/api/v1/vulndb/import", user: "admin",
				body: func(t *testing.T) (io.Reader, string) {
					return multipartBody(t, mpPart{"file", "npm-all.zip", zipOf(t, map[string][]byte{"GHSA-test-0003.json": adv,
						"broken.json": []byte(`{"id":`)})})
				},
				status: http.StatusOK, notExpect: []string{os.TempDir()}, // not the server's temporary directory
				after: func(t *testing.T, body []byte, _ http.Header) {
					imp := decode[vulnImportResponse](t, body)
					if imp.Import.Added != 1 || len(imp.Import.Skipped) != 1 || imp.Rematch.Added != 3 || imp.Rematch.Alerts != 2 {
						t.Fatalf("advisory import: %s", body)
					}
				}},
			{name: "advisory upload of a text file", method: "POST", url: "/api/v1/vulndb/import", user: "admin",
				body: func(t *testing.T) (io.Reader, string) {
					return multipartBody(t, mpPart{"file", "notes.txt", []byte("hello")})
				},
				status: http.StatusBadRequest, errCode: "vulndb_bad_type"},
			{name: "vulndb status", method: "GET", url: "/api/v1/vulndb/status", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if st := decode[vuln.Status](t, body); st.Total != 4 || st.LastImport == nil || st.LastImport.Source != "npm-all.zip" {
						t.Fatalf("vulndb status: %s", body)
					}
				}},

			// The alert names A's products and asset; B's alert stays B's.
			{name: "alerts", method: "GET", url: "/api/v1/supply/alerts?open=1", user: sec, status: http.StatusOK, notExpect: leakMarks,
				after: func(t *testing.T, body []byte, _ http.Header) {
					alerts := decode[listResponse[supply.Alert]](t, body)
					var lodash, failed supply.Alert
					for _, al := range alerts.Items {
						switch {
						case al.VulnID == "GHSA-test-0003":
							lodash = al
						case al.Kind == "delivery_failed":
							failed = al
						}
					}
					if lodash.ID == 0 || failed.ID == 0 || !strings.Contains(string(lodash.Detail), "A-001") ||
						!strings.Contains(string(lodash.Detail), "智慧门诊") {
						t.Fatalf("alerts: %s", body)
					}
					vars["alert"] = id(lodash.ID)
				}},
			{name: "B's alerts", method: "GET", url: "/api/v1/supply/alerts?open=1", user: "secofficer_b", status: http.StatusOK,
				expect: []string{"GHSA-test-0003"}, notExpect: []string{"智慧门诊"}},
			{name: "acknowledge without permission", method: "POST", url: "/api/v1/supply/alerts/{alert}/ack", user: "auditor",
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "acknowledge", method: "POST", url: "/api/v1/supply/alerts/{alert}/ack", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if al := decode[supply.Alert](t, body); al.AcknowledgedBy != sec || al.AcknowledgedAt == nil {
						t.Fatalf("acknowledge: %s", body)
					}
				}},
			{name: "acknowledge B's alert", method: "POST", url: "/api/v1/supply/alerts/{alertB}/ack", user: sec,
				status: http.StatusNotFound, errCode: "not_found"},

			// Hospital B sees its own vendor only, and none of A's.
			{name: "B's vendors", method: "GET", url: "/api/v1/vendors", user: "secofficer_b", status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if l := decode[listResponse[supply.Vendor]](t, body); l.Total != 1 || l.Items[0].Name != vendorBName {
						t.Fatalf("B's vendors: %s", body)
					}
				}},
			{name: "A's vendor as B", method: "GET", url: "/api/v1/vendors/{vendor}", user: "secofficer_b", status: http.StatusNotFound, errCode: "not_found"},
			{name: "vendor detail", method: "GET", url: "/api/v1/vendors/{vendor}", user: sec, status: http.StatusOK,
				after: func(t *testing.T, body []byte, _ http.Header) {
					if d := decode[supply.VendorDetail](t, body); len(d.Contracts) != 1 || len(d.Products) != 1 || d.Vendor.FailedChecks != 1 {
						t.Fatalf("vendor detail: %s", body)
					}
				}},
		})
	})
}

// TestSupplyUploadLimits checks that oversized uploads are refused with their own code,
// through the browser's multipart form as well as the API.
func TestSupplyUploadLimits(t *testing.T) {
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	vpath := "/api/v1/versions/" + strconv.FormatInt(e.VersionA.ID, 10)
	big := bytes.Repeat([]byte(" "), maxSBOMUpload+1)
	code, body, _ := e.raw("POST", vpath+"/sbom", "secofficer", bytes.NewReader(big), "application/json")
	wantAPIError(t, code, body, http.StatusBadRequest, "sbom_too_large")
	code, body, _ = e.raw("POST", vpath+"/sbom", "secofficer", strings.NewReader(""), "application/json")
	wantAPIError(t, code, body, http.StatusBadRequest, "sbom_required")

	// In the browser the CSRF token sits in the multipart form, so the body is read with
	// the route's own limit before the handler runs.
	b := e.newBrowser()
	b.login("secofficer")
	b.get("/supply/versions/" + strconv.FormatInt(e.VersionA.ID, 10))
	mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(b.csrf)}, mpPart{"sbom", "big.json", big})
	req, _ := http.NewRequest("POST", e.URL+"/supply/versions/"+strconv.FormatInt(e.VersionA.ID, 10)+"/sbom", mp)
	req.Header.Set("Content-Type", ct)
	code, out, _ := do(t, b.client, req)
	mustContain(t, code, string(out), http.StatusBadRequest, "larger than 64 MiB")
}

// TestSupplyUI drives the supply-chain pages with signed-in browsers of several roles.
func TestSupplyUI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		sec := e.newBrowser()
		sec.login("secofficer")
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		ae := &assetEnv{testEnv: e}
		page := func(b *browser, method, path string, form url.Values, hdr map[string]string) (int, string, http.Header) {
			t.Helper()
			return ae.page(b, method, path, form, hdr)
		}
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		location := func(code int, h http.Header, prefix string) string {
			t.Helper()
			if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), prefix) {
				t.Fatalf("status %d location %q, want a redirect to %s…", code, h.Get("Location"), prefix)
			}
			return h.Get("Location")
		}

		t.Run("risk view", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply", nil, nil)
			mustContain(t, code, body, http.StatusOK, "echarts-5.6.0.min.js", `id="chart-supply-severity"`, `data-chart="chart-supply-severity"`,
				`id="kpi-open-findings"`, `id="top-components"`, "requests", `"color":"#8b1a10"`, `id="nav-supply"`)
			mustNotContain(t, body, vendorBName, productBName, "<script>")
			code, body, _ = page(sec, "GET", "/supply", nil, zh)
			mustContain(t, code, body, http.StatusOK, "统一的软件资产风险视图", "软件供应链", `"label":"严重"`)
		})

		var vendorURL string
		t.Run("vendors", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply/vendors", nil, nil)
			mustContain(t, code, body, http.StatusOK, "Acme Medical Software", `id="vendor-form"`)
			mustNotContain(t, body, vendorBName)
			form := url.Values{"org_id": {id(e.HospA.ID)}, "name": {"东华软件"}, "uscc": {"91350100M000100Y44"}, "approved": {"1"}}
			code, body, _ = page(sec, "POST", "/supply/vendors", form, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="东华软件"`, `id="v-uscc" name="uscc" value="91350100M000100Y44"`, `aria-invalid="true"`)
			form.Set("uscc", "91350100M000100Y43")
			code, _, h := page(sec, "POST", "/supply/vendors", form, nil)
			vendorURL = strings.TrimSuffix(location(code, h, "/supply/vendors/"), "?flash=flash.vendor_created")
			code, body, _ = page(sec, "GET", vendorURL+"?flash=flash.vendor_created", nil, nil)
			mustContain(t, code, body, http.StatusOK, "Vendor created.", "东华软件", `id="contract-form"`, `id="key-form"`)
			code, body, _ = page(sec, "POST", vendorURL+"/keys", url.Values{"fingerprint": {"not-hex"}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="not-hex"`, "SHA-256")
			code, _, h = page(sec, "POST", vendorURL+"/keys", url.Values{"fingerprint": {strings.Repeat("AB:", 31) + "AB"}, "label": {"2026 证书"}}, nil)
			location(code, h, vendorURL+"?flash=flash.key_added")
			code, _, h = page(sec, "POST", vendorURL+"/contracts", url.Values{"title": {"采购合同"}, "starts_on": {"2026-01-01"}}, nil)
			location(code, h, vendorURL+"?flash=flash.contract_added")
			code, body, _ = page(sec, "GET", vendorURL, nil, nil)
			mustContain(t, code, body, http.StatusOK, "采购合同", strings.Repeat("ab", 32), "2026 证书")
			code, _, _ = page(sec, "GET", "/supply/vendors/"+id(e.VendorB.ID), nil, nil)
			if code != http.StatusNotFound {
				t.Fatalf("B's vendor page: %d", code)
			}
		})

		var versionURL string
		t.Run("product and version", func(t *testing.T) {
			vendorID := strings.TrimPrefix(vendorURL, "/supply/vendors/")
			code, body, _ := page(sec, "GET", "/supply/products", nil, zh)
			mustContain(t, code, body, http.StatusOK, "软件资产库", "自研", "外包", "采购", "合作开发", "Outpatient app A")
			form := url.Values{"org_id": {id(e.HospA.ID)}, "vendor_id": {vendorID}, "name": {"电子病历"}, "source": {"outsourced"}}
			code, _, h := page(sec, "POST", "/supply/products", form, nil)
			productURL := strings.TrimSuffix(location(code, h, "/supply/products/"), "?flash=flash.product_created")
			code, body, _ = page(sec, "GET", productURL, nil, nil)
			mustContain(t, code, body, http.StatusOK, "电子病历", `id="version-form"`, `name="asset_ids"`, "A-001")
			mustNotContain(t, body, "B-001")
			code, body, _ = page(sec, "POST", productURL+"/versions", url.Values{"version": {"2.1"}, "asset_refs": {"NO-SUCH"}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="NO-SUCH"`, `value="2.1"`)
			code, body, _ = page(sec, "POST", productURL+"/versions", url.Values{"version": {"2.1"}, "asset_refs": {"B-001"}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="B-001"`)
			mustNotContain(t, body, "PACS archive B")
			code, _, h = page(sec, "POST", productURL+"/versions", url.Values{"version": {"2.1"}, "released_on": {"2026-03-01"},
				"asset_refs": {"a-001"}}, nil)
			versionURL = strings.TrimSuffix(location(code, h, "/supply/versions/"), "?flash=flash.version_created")
			code, body, _ = page(sec, "GET", versionURL, nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="linked-assets"`, "HIS database server A", `id="sbom-form"`, "No SBOM")
		})

		t.Run("SBOM upload, gates, delivery", func(t *testing.T) {
			sec.get(versionURL)
			mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(sec.csrf)}, mpPart{"sbom", "app-1.0.cdx.json", supplySBOM(t)})
			req, _ := http.NewRequest("POST", e.URL+versionURL+"/sbom", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h := do(t, sec.client, req)
			code, body, _ := page(sec, "GET", location(code, h, versionURL+"?outcome="), nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="import-report"`, `id="report-findings"><b>3</b>`,
				`id="report-missing-purl"`, "pkg:pypi/requests@2.30.0", "GHSA-test-0001", `class="badge lv-denied"`,
				// Coverage: lodash (npm, no advisory data) and the component without purl were
				// not checked.
				`id="report-covered"><b>2</b>`, `id="version-coverage"><span class="badge warn">Only 2 of 4 components checked`,
				"npm: 1 components, the vulnerability database holds no advisories for this ecosystem", "1 components without purl")
			// A broken document keeps the page and says where it broke.
			mp, ct = multipartBody(t, mpPart{"csrf", "", []byte(sec.csrf)}, mpPart{"sbom", "broken.json", []byte(`{"bomFormat":"CycloneDX","components":[{`)})
			req, _ = http.NewRequest("POST", e.URL+versionURL+"/sbom", mp)
			req.Header.Set("Content-Type", ct)
			code, out, _ := do(t, sec.client, req)
			mustContain(t, code, string(out), http.StatusBadRequest, `class="error"`, "SBOM", `id="sbom-form"`)
			mustNotContain(t, string(out), "goroutine", ".go:")

			code, _, h = page(sec, "POST", versionURL+"/gates", url.Values{"gate": {"procurement"}}, nil)
			location(code, h, versionURL+"?flash=flash.gate_evaluated")
			code, body, _ = page(sec, "GET", versionURL, nil, zh)
			mustContain(t, code, body, http.StatusOK, `id="gate-results"`, "采购门禁", "无使用禁止许可证的组件", "GPL-3.0-only",
				"漏洞情报覆盖", "仅核查了 2 / 4 个组件", "漏洞库中没有该生态的漏洞情报", "4 个组件中有 2 个无法用漏洞情报核查（npm 没有漏洞情报）", "所有组件均可用漏洞情报核查")
			mustNotContain(t, body, "components could not be checked against advisory data", "supply.rule.coverage")
			// The items under a failed rule too.
			mustContain(t, code, body, http.StatusOK, "npm：1 个组件，没有漏洞情报", "1 个组件没有 purl")
			mustNotContain(t, body, "no advisory data", "component without purl")

			// A delivery whose artifact name has no match: failed, with the reasons shown.
			mp, ct = multipartBody(t, mpPart{"csrf", "", []byte(sec.csrf)},
				mpPart{"manifest", "m.json", mustManifest(t, "2.1", fileOf("app.bin", []byte("x")))},
				mpPart{"files", "other.bin", []byte("x")})
			req, _ = http.NewRequest("POST", e.URL+versionURL+"/deliveries", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h = do(t, sec.client, req)
			code, body, _ = page(sec, "GET", location(code, h, versionURL+"?outcome="), nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="delivery-result" class="error"`, "app.bin", `class="badge bad"`)

			// A delivery whose file differs in size and both digests: in zh-CN the version
			// page, the alerts and the vendor's deliveries say so in Chinese, not in the
			// English kept for the API and CLI.
			mp, ct = multipartBody(t, mpPart{"csrf", "", []byte(sec.csrf)},
				mpPart{"manifest", "m.json", mustManifest(t, "2.1", fileOf("app.bin", []byte("xx")))},
				mpPart{"files", "app.bin", []byte("xyz")})
			req, _ = http.NewRequest("POST", e.URL+versionURL+"/deliveries", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h = do(t, sec.client, req)
			zhProblem := "大小为 3 字节，清单声明为 2 字节；SHA-256 和 SM3 摘要均不一致"
			for _, path := range []string{location(code, h, versionURL+"?outcome="), "/supply/alerts", versionURL, vendorURL} {
				code, body, _ = page(sec, "GET", path, nil, zh)
				mustContain(t, code, body, http.StatusOK, zhProblem, "多出的文件")
				mustNotContain(t, body, "the manifest declares", "digests do not match", "the manifest is for version")
			}
			code, body, _ = page(sec, "GET", "/supply/alerts", nil, nil)
			mustContain(t, code, body, http.StatusOK, "size is 3 bytes, the manifest declares 2; SHA-256 and SM3 digests do not match")
		})

		t.Run("unknown severity is a warning", func(t *testing.T) {
			// The severity filter names unknown as unrated in both languages, and its badge
			// has the warning colours, not the grey of "none".
			code, body, _ := page(sec, "GET", "/supply/findings", nil, nil)
			mustContain(t, code, body, http.StatusOK, `<option value="unknown">Unknown (not rated)</option>`)
			code, body, _ = page(sec, "GET", "/supply/findings", nil, zh)
			mustContain(t, code, body, http.StatusOK, `<option value="unknown">未知（未评级）</option>`)
			code, body, _ = page(sec, "GET", "/static/app.css", nil, nil)
			mustContain(t, code, body, http.StatusOK, ".badge.sev-unknown { background:#fef0c7; color:var(--warn);")
			mustNotContain(t, body, ".badge.sev-none, .badge.sev-unknown")
			// An unrated advisory against requests: a filter by critical says it hides one
			// finding of unknown severity, and links to it.
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "PYSEC-unrated.json"), []byte(`{"id":"PYSEC-unrated","modified":"2026-03-01T00:00:00Z",
				"affected":[{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := e.Vulns.Import(context.Background(), dir, vuln.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Supply.Rematch(context.Background(), actor.System(), res.Changed); err != nil {
				t.Fatal(err)
			}
			code, body, _ = page(sec, "GET", "/supply/findings?severity=critical", nil, zh)
			mustContain(t, code, body, http.StatusOK, `id="finding-unknown"`, `class="badge sev-unknown"`, "个严重程度未知的漏洞符合筛选条件",
				`href="?severity=unknown"`)
			code, body, _ = page(sec, "GET", "/supply/findings?severity=unknown", nil, nil)
			mustContain(t, code, body, http.StatusOK, "PYSEC-unrated", `class="badge sev-unknown"`)
			mustNotContain(t, body, `id="finding-unknown"`)
		})

		t.Run("findings and decisions", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply/findings?severity=critical", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="finding-filters"`, "GHSA-test-0001", "Outpatient app A")
			mustNotContain(t, body, "GO-test-0002", productBName)
			code, body, _ = page(sec, "GET", "/supply/findings?severity=medium", nil, map[string]string{"HX-Request": "true"})
			mustContain(t, code, body, http.StatusOK, `id="finding-list"`, "GO-test-0002")
			mustNotContain(t, body, "<html", "finding-filters", "GHSA-test-0001")
			code, body, _ = page(sec, "GET", "/supply/findings?state=bogus", nil, nil)
			mustContain(t, code, body, http.StatusBadRequest, `class="error"`, `id="finding-filters"`)
			fpath := "/supply/findings/" + id(e.FindingA.ID)
			code, body, _ = page(sec, "GET", fpath, nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="decision-form"`, "pkg:pypi/requests@2.30.0", `href="/supply/vulns/GHSA-test-0001"`)
			code, body, _ = page(sec, "POST", fpath+"/decision", url.Values{"state": {"accepted"}, "reason": {""},
				"expires_at": {time.Now().AddDate(0, 1, 0).Format("2006-01-02")}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, `aria-invalid="true"`, `id="decision-form"`)
			code, _, h := page(sec, "POST", fpath+"/decision", url.Values{"state": {"false_positive"}, "reason": {"组件未被调用"},
				"expires_at": {"2026-01-01"}}, nil)
			location(code, h, fpath+"?flash=flash.decision_saved")
			code, body, _ = page(sec, "GET", fpath, nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="finding-state">False positive`, "组件未被调用", `id="decision-current"`)

			ops := e.newBrowser()
			ops.login("itops")
			code, body, _ = page(ops, "GET", fpath, nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="finding-state"`)
			mustNotContain(t, body, `id="decision-form"`)
			code, body, _ = page(ops, "POST", fpath+"/decision", url.Values{"state": {"open"}}, nil)
			mustContain(t, code, body, http.StatusForbidden, "Your role does not allow this.")
		})

		t.Run("vulnerability drill-down", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply/vulns/GO-test-0002", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="advisory"`, `id="exposure-rows"`, `href="/assets/`+id(e.AssetA.ID)+`"`, "A-001")
			mustNotContain(t, body, "B-001", productBName)
			code, _, _ = page(sec, "GET", "/supply/vulns/NOPE-1", nil, nil)
			if code != http.StatusNotFound {
				t.Fatalf("unknown vulnerability: %d", code)
			}
		})

		t.Run("alerts", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply/alerts?open=1", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="alert-`+id(e.AlertA.ID)+`"`, `id="ack-`+id(e.AlertA.ID)+`"`, "A-001")
			mustNotContain(t, body, productBName, `id="alert-`+id(e.AlertB.ID)+`"`)
			code, _, h := page(sec, "POST", "/supply/alerts/"+id(e.AlertA.ID)+"/ack", url.Values{}, nil)
			location(code, h, "/supply/alerts?flash=flash.alert_acknowledged")
			code, body, _ = page(sec, "GET", "/supply/alerts", nil, nil)
			mustContain(t, code, body, http.StatusOK, "Acknowledged by secofficer")
			aud := e.newBrowser()
			aud.login("auditor")
			code, body, _ = page(aud, "GET", "/supply/alerts", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="alert-list"`)
			mustNotContain(t, body, `id="ack-`)
		})

		t.Run("gates, policy and vulnerability database", func(t *testing.T) {
			code, body, _ := page(sec, "GET", "/supply/gates", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="gate-form"`, "Go-live gate", "built in", `id="gate-edit-go-live"`)
			code, body, _ = page(sec, "GET", "/supply/gates?edit=update", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="g-name" name="name" value="update"`, `<option value="update" selected>`)
			code, body, _ = page(sec, "POST", "/supply/gates", url.Values{"org_id": {id(e.HospA.ID)}, "name": {"bad name"}, "stage": {"go_live"}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="bad name"`, `aria-invalid="true"`)
			code, _, h := page(sec, "POST", "/supply/gates", url.Values{"org_id": {id(e.HospA.ID)}, "name": {"ops-check"},
				"stage": {"operation"}, "block_severity": {"medium"}, "require_sbom": {"1"}}, nil)
			location(code, h, "/supply/gates?org_id="+id(e.HospA.ID)+"&flash=flash.gate_saved")
			code, body, _ = page(sec, "GET", "/supply/gates", nil, nil)
			mustContain(t, code, body, http.StatusOK, "ops-check", "No open vulnerability of severity Medium or above",
				"Every component can be checked against advisory data", "Open vulnerabilities of unknown severity block")
			// The coverage and unknown-severity rules can be relaxed explicitly.
			code, _, h = page(sec, "POST", "/supply/gates", url.Values{"org_id": {id(e.HospA.ID)}, "name": {"lenient"},
				"stage": {"operation"}, "block_severity": {"high"}, "allow_uncovered": {"1"}, "ignore_unknown_severity": {"1"}}, nil)
			location(code, h, "/supply/gates?org_id="+id(e.HospA.ID)+"&flash=flash.gate_saved")
			code, body, _ = page(sec, "GET", "/supply/gates?edit=lenient", nil, zh)
			mustContain(t, code, body, http.StatusOK, "允许存在漏洞库无法核查的组件", "忽略严重程度未知的未处置漏洞",
				`id="g-allow_uncovered" checked`, `id="g-ignore_unknown_severity" checked`)

			code, body, _ = page(sec, "GET", "/supply/licence-policy", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="policy-form"`, `id="policy-deny"`)
			code, body, _ = page(sec, "POST", "/supply/licence-policy", url.Values{"org_id": {id(e.HospA.ID)}, "allow": {"MIT\nNot-A-Licence"}}, nil)
			mustContain(t, code, body, http.StatusBadRequest, "Not-A-Licence", `class="error"`)
			code, _, h = page(sec, "POST", "/supply/licence-policy", url.Values{"org_id": {id(e.HospA.ID)}, "allow": {"MIT\nApache-2.0"},
				"deny": {"GPL-3.0-only"}, "unlisted": {"denied"}}, nil)
			location(code, h, "/supply/licence-policy?org_id="+id(e.HospA.ID)+"&flash=flash.policy_saved")
			code, body, _ = page(sec, "GET", "/supply/licence-policy", nil, nil)
			mustContain(t, code, body, http.StatusOK, "<li>Apache-2.0</li>", "<li>GPL-3.0-only</li>")

			code, body, _ = page(sec, "GET", "/supply/vulndb", nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="vulndb-ecosystems"`, "PyPI")
			mustNotContain(t, body, `id="vulndb-form"`)
			adm := e.newBrowser()
			adm.login("admin")
			adm.get("/supply/vulndb")
			adv, err := os.ReadFile("testdata/supply/osv-new/GHSA-test-0003.json")
			if err != nil {
				t.Fatal(err)
			}
			mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(adm.csrf)}, mpPart{"file", "GHSA-test-0003.json", adv})
			req, _ := http.NewRequest("POST", e.URL+"/supply/vulndb", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h = do(t, adm.client, req)
			code, body, _ = page(adm, "GET", location(code, h, "/supply/vulndb?outcome="), nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="vulndb-import-report"`, `id="vulndb-alerts"><b>2</b>`)
		})

		t.Run("a read-only role sees no forms", func(t *testing.T) {
			aud := e.newBrowser()
			aud.login("auditor")
			for path, forbidden := range map[string][]string{
				"/supply/versions/" + id(e.VersionA.ID): {`id="sbom-form"`, `id="gate-buttons"`, `id="delivery-form"`, `id="assets-form"`},
				"/supply/vendors/" + id(e.VendorA.ID):   {`id="vendor-edit-form"`, `id="contract-form"`, `id="key-form"`},
				"/supply/vendors":                       {`id="vendor-form"`},
				"/supply/products/" + id(e.ProductA.ID): {`id="version-form"`, `id="product-edit-form"`},
				"/supply/products":                      {`id="product-form"`},
				"/supply/findings/" + id(e.FindingA.ID): {`id="decision-form"`},
				"/supply/gates":                         {`id="gate-form"`, `id="gate-edit-`},
				"/supply/licence-policy":                {`id="policy-form"`},
				"/supply/vulndb":                        {`id="vulndb-form"`},
			} {
				code, body, _ := page(aud, "GET", path, nil, nil)
				mustContain(t, code, body, http.StatusOK, `id="nav-supply"`)
				mustNotContain(t, body, forbidden...)
			}
		})

		t.Run("missing CSRF is refused", func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.URL+"/supply/alerts/"+id(e.AlertA.ID)+"/ack", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if code, _, _ := do(t, sec.client, req); code != http.StatusForbidden {
				t.Fatalf("acknowledge without CSRF: %d", code)
			}
		})
	})
}

// mustManifest builds the manifest of a delivery of version v of the test product.
func mustManifest(t *testing.T, v string, files ...delivery.File) []byte {
	t.Helper()
	m, err := delivery.Build("Acme", "App", v, "D-"+v, time.Now(), files)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSupplyErrorTexts(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	s := e.srv
	tests := []struct {
		name string
		pe   *problem.Error
		lang string
		want string
	}{
		{"own code", problem.Conflict("this version of the product already exists").WithCode("duplicate_version"), "zh-CN", "该产品的此版本已存在。"},
		{"field label", problem.Invalid("uscc", "is not a valid unified social credit code"), "zh-CN", "请检查“统一社会信用代码”: is not a valid unified social credit code"},
		{"parse place kept", problem.Invalid("sbom", "line 3, column 14: unexpected end").WithCode("invalid_sbom"), "en", "Please check “SBOM”: line 3, column 14: unexpected end"},
		{"upload limit", problem.Invalid("file", "too big").WithCode("delivery_too_large"), "en", "The delivery is larger than 512 MiB; check it with `medguard delivery verify` instead."},
	}
	for _, tc := range tests {
		if got := s.errorText(tc.lang, tc.pe); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
