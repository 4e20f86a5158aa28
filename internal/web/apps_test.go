package web

import (
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/authcode"
	"github.com/medguard/medguard/internal/portal"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestAppLifecycleAPI is the risk-control path over HTTP: the app operator applies →
// the security officer approves → the code verifies offline with the public key alone →
// a crawler's token reports a channel serving a build with a foreign signer → a critical
// finding → the score drops by the default model's deduction for it → the grade changes
// → eviction → the code no longer verifies online (public endpoint) → re-admission with
// evidence → approval and a new code that verifies.
func TestAppLifecycleAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		official := strings.Repeat("ab", 32)
		foreign := strings.Repeat("cd", 32)
		app := appreg.Input{Name: "Patient portal", Platform: appreg.PlatformAndroid, Package: "cn.hospital.a.portal",
			Operator: "Portal Ltd", Purpose: "online consultation",
			Contacts: []appreg.Contact{{Role: "security", Name: "Wang", Phone: "13800000001", Email: "sec@a.example"},
				{Role: "technical", Name: "Li", Phone: "13800000002", Email: "tech@a.example"},
				{Role: "management", Name: "Zhang", Phone: "13800000003", Email: "mgmt@a.example"}},
			Channels: []appreg.Channel{{Name: "appgallery", URL: "https://appgallery.example/app"}},
			Versions: []appreg.Version{{Version: "2.0", SHA256: strings.Repeat("01", 32), Signers: []string{official}}}}
		deduction := appscore.DefaultModel().Types[appreg.FindingForeignSigner].Deductions[appscore.Critical]
		vars := map[string]string{}
		var code string
		codeOf := func(body []byte) string {
			d := decode[appDetail](t, body)
			for _, c := range d.Codes {
				if c.RevokedAt == nil {
					return c.Code
				}
			}
			return ""
		}
		readmit := app
		readmit.Evidence = "the counterfeit build was taken down; the app was hardened and re-signed"
		e.runScenarios(t, vars, []apiScenario{
			{name: "apply", method: "POST", url: "/api/v1/apps", user: "appops", body: jsonBody(app), status: http.StatusCreated,
				expect: []string{`"status":"pending"`, `"hospital":"Hospital A"`, official},
				after: func(t *testing.T, body []byte, _ http.Header) {
					vars["id"] = fmt.Sprint(decode[appreg.App](t, body).ID)
				}},
			{name: "the operator cannot approve", method: "POST", url: "/api/v1/apps/{id}/review", user: "appops",
				body: jsonBody(appreg.Decision{Approve: true}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "another hospital does not see it", method: "GET", url: "/api/v1/apps/{id}", user: "secofficer_b",
				status: http.StatusNotFound, errCode: "not_found", notExpect: []string{"Patient portal"}},
			{name: "approve", method: "POST", url: "/api/v1/apps/{id}/review", user: "secofficer",
				body: jsonBody(appreg.Decision{Approve: true, Comment: "complete"}), status: http.StatusOK,
				expect: []string{`"status":"admitted"`, `"score":100`, `"grade":"A"`, `"code":"MGAC1.`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					code = codeOf(body)
				}},
			{name: "public keys", method: "GET", url: "/api/v1/authcodes/keys", user: "", status: http.StatusOK,
				expect: []string{"-----BEGIN PUBLIC KEY-----"},
				after: func(t *testing.T, body []byte, _ http.Header) {
					// Offline: the published keys alone verify the code.
					ring, err := authcode.ParseKeyRingPEM(body)
					if err != nil {
						t.Fatal(err)
					}
					cl, err := authcode.Verify(code, ring, time.Now())
					if err != nil || cl.AppID != vars["id"] || cl.HospitalName != "Hospital A" {
						t.Fatalf("offline verification: %+v %v", cl, err)
					}
				}},
			{name: "verifies online", method: "POST", url: "/api/v1/authcodes/verify", user: "",
				body:   func(t *testing.T) (io.Reader, string) { return jsonBody(map[string]string{"code": code})(t) },
				status: http.StatusOK, expect: []string{`"valid":true`, `"app":"Patient portal"`}},
			{name: "a crawler reports a foreign signer", method: "POST", url: "/api/v1/apps/{id}/observations", user: "itops",
				body:   jsonBody(appreg.Observation{Channel: "appgallery", Version: "2.0", SHA256: strings.Repeat("ff", 32), Signer: foreign}),
				status: http.StatusCreated, expect: []string{`"type":"channel.foreign_signer"`, `"severity":"critical"`, foreign}},
			{name: "the score dropped by the model's deduction", method: "GET", url: "/api/v1/apps/{id}", user: "auditor", status: http.StatusOK,
				expect: []string{fmt.Sprintf(`"score":%d`, 100-deduction), `"grade":"C"`}},
			{name: "the points lost are explained", method: "GET", url: "/api/v1/apps/{id}/scores", user: "regulator", status: http.StatusOK,
				expect: []string{`"grade":"A"`, `"grade":"C"`, `"type":"channel.foreign_signer"`, fmt.Sprintf(`"taken":%d`, deduction)}},
			{name: "the finding raised an alert", method: "GET", url: "/api/v1/alerts?source=apps", user: "secofficer", status: http.StatusOK,
				expect: []string{`"kind":"channel.foreign_signer"`, `"kind":"app.eviction_proposed"`}},
			{name: "evict", method: "POST", url: "/api/v1/apps/{id}/evict", user: "secofficer",
				body: jsonBody(evictRequest{Reason: "counterfeit build in appgallery"}), status: http.StatusOK,
				expect: []string{`"status":"evicted"`, `"revoke_reason":"evicted: counterfeit build in appgallery"`}},
			{name: "no longer verifies online", method: "POST", url: "/api/v1/authcodes/verify", user: "",
				body:   func(t *testing.T) (io.Reader, string) { return jsonBody(map[string]string{"code": code})(t) },
				status: http.StatusOK, expect: []string{`"valid":false`, `"reason":"revoked: evicted`}},
			{name: "a forged code is refused", method: "POST", url: "/api/v1/authcodes/verify", user: "",
				body: jsonBody(map[string]string{"code": "MGAC1.eyJ9.AAAA"}), status: http.StatusOK, expect: []string{`"valid":false`},
				notExpect: []string{`"app"`}},
			{name: "re-admission needs evidence", method: "POST", url: "/api/v1/apps/{id}/readmit", user: "appops",
				body: jsonBody(app), status: http.StatusBadRequest, errCode: "invalid"},
			{name: "re-admission", method: "POST", url: "/api/v1/apps/{id}/readmit", user: "appops",
				body: jsonBody(readmit), status: http.StatusOK, expect: []string{`"status":"pending"`, `"kind":"readmission"`}},
			{name: "approved again", method: "POST", url: "/api/v1/apps/{id}/review", user: "secofficer",
				body: jsonBody(appreg.Decision{Approve: true}), status: http.StatusOK, expect: []string{`"status":"admitted"`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					if code = codeOf(body); code == "" {
						t.Fatal("no valid code after re-admission")
					}
				}},
			{name: "the new code verifies", method: "POST", url: "/api/v1/authcodes/verify", user: "",
				body:   func(t *testing.T) (io.Reader, string) { return jsonBody(map[string]string{"code": code})(t) },
				status: http.StatusOK, expect: []string{`"valid":true`}},
		})
	})
}

// TestAppInspectionAPI: an APK uploaded for an app is verified and its findings become
// the app's — the manifest's, a package other than the one filed and a signer no
// official version names; a second upload replaces them (an unverified APK has no signer); a file that is not an APK is
// refused with a clear error and changes nothing; another hospital's app is not found.
func TestAppInspectionAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		golden, err := os.ReadFile("../apk/testdata/apksig/golden-aligned-v1v2v3-out.apk")
		if err != nil {
			t.Fatal(err)
		}
		tampered, err := os.ReadFile("../apk/testdata/apksig/v1-only-with-signed-attrs-wrong-digest.apk")
		if err != nil {
			t.Fatal(err)
		}
		const signer = "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8"
		vars := map[string]string{"id": fmt.Sprint(e.AppA.ID), "b": fmt.Sprint(e.AppB.ID)}
		e.runScenarios(t, vars, []apiScenario{
			{name: "a verified APK of another package", method: "POST", url: "/api/v1/apps/{id}/inspections", user: "appops",
				body: rawBody(string(golden), "application/vnd.android.package-archive"), status: http.StatusCreated,
				expect: []string{`"verified":true`, `"package":"android.appsecurity.cts.tinyapp"`, `"type":"apk.package_mismatch"`,
					`"type":"apk.unfiled_signer"`, signer, `"type":"apk.cleartext"`, `"type":"apk.allow_backup"`}},
			{name: "the score took the points", method: "GET", url: "/api/v1/apps/{id}", user: "auditor", status: http.StatusOK,
				expect: []string{`"grade":"C"`}},
			{name: "a tampered APK replaces the findings", method: "POST", url: "/api/v1/apps/{id}/inspections", user: "secofficer",
				body: rawBody(string(tampered), "application/vnd.android.package-archive"), status: http.StatusCreated,
				expect: []string{`"verified":false`, `"type":"apk.signature_invalid"`}, notExpect: []string{`"type":"apk.unfiled_signer"`}},
			{name: "the inspections", method: "GET", url: "/api/v1/apps/{id}/inspections", user: "regulator", status: http.StatusOK,
				expect: []string{`"total":2`, `"schemes":["v3","v2","v1"]`}},
			{name: "not an APK", method: "POST", url: "/api/v1/apps/{id}/inspections", user: "appops",
				body: rawBody("PK\x03\x04 this is no zip", "application/vnd.android.package-archive"), status: http.StatusBadRequest, errCode: "invalid"},
			{name: "still two inspections", method: "GET", url: "/api/v1/apps/{id}/inspections", user: "appops", status: http.StatusOK,
				expect: []string{`"total":2`}},
			{name: "another hospital's app", method: "POST", url: "/api/v1/apps/{b}/inspections", user: "appops",
				body: rawBody(string(golden), "application/vnd.android.package-archive"), status: http.StatusNotFound, errCode: "not_found"},
		})
	})
}

// TestAppWebCheckAPI: an H5 app's portal (a loopback HTTPS server) is checked on
// request: its missing headers become the app's web.header findings and cost points;
// an address the app did not file is refused (the check never fetches it).
func TestAppWebCheckAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		fetched := 0
		site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetched++
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
			_, _ = w.Write([]byte("<html>portal</html>"))
		}))
		defer site.Close()
		roots := x509.NewCertPool()
		roots.AddCert(site.Certificate())
		e.srv.WebCheck = portal.Options{RootCAs: roots}
		h5 := appreg.Input{Name: "H5 portal", Platform: appreg.PlatformH5, Package: site.URL, Operator: "Portal Ltd", Purpose: "online consultation",
			Contacts: []appreg.Contact{{Role: "security", Name: "Wang", Phone: "13800000001", Email: "sec@a.example"},
				{Role: "technical", Name: "Li", Phone: "13800000002", Email: "tech@a.example"},
				{Role: "management", Name: "Zhang", Phone: "13800000003", Email: "mgmt@a.example"}},
			Versions: []appreg.Version{{Version: "2026.12"}}}
		vars := map[string]string{}
		e.runScenarios(t, vars, []apiScenario{
			{name: "file the portal", method: "POST", url: "/api/v1/apps", user: "appops", body: jsonBody(h5), status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) {
					vars["id"] = fmt.Sprint(decode[appreg.App](t, body).ID)
				}},
			{name: "approve", method: "POST", url: "/api/v1/apps/{id}/review", user: "secofficer", body: jsonBody(appreg.Decision{Approve: true}),
				status: http.StatusOK, expect: []string{`"score":100`}},
			{name: "an address not filed", method: "POST", url: "/api/v1/apps/{id}/webcheck", user: "itops",
				body: jsonBody(portalCheckRequest{URL: "https://169.254.169.254/latest/meta-data"}), status: http.StatusBadRequest, errCode: "invalid",
				after: func(t *testing.T, _ []byte, _ http.Header) {
					if fetched != 0 {
						t.Fatal("fetched something")
					}
				}},
			{name: "check the portal", method: "POST", url: "/api/v1/apps/{id}/webcheck", user: "itops", body: jsonBody(portalCheckRequest{}),
				status: http.StatusOK, expect: []string{`"verified":true`, `"type":"web.header"`, site.URL + ` · csp`, site.URL + ` · framing`},
				notExpect: []string{`"type":"web.tls"`, `· hsts`},
				after: func(t *testing.T, _ []byte, _ http.Header) {
					if fetched == 0 {
						t.Fatal("the portal was not fetched")
					}
				}},
			{name: "the points are lost", method: "GET", url: "/api/v1/apps/{id}", user: "auditor", status: http.StatusOK,
				notExpect: []string{`"score":100`}},
		})
	})
}

// TestAppVulnsAPI: an official version naming the supply chain's software version that
// holds its SBOM makes the open vulnerabilities of its components findings of the app;
// a version of another hospital names nothing the app's hospital can see.
func TestAppVulnsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		in := func(pkg string, version int64) appreg.Input {
			return appreg.Input{Name: "App " + pkg, Platform: appreg.PlatformAndroid, Package: pkg, Operator: "Ltd", Purpose: "online consultation",
				Contacts: []appreg.Contact{{Role: "security", Name: "Wang", Phone: "13800000001", Email: "sec@a.example"},
					{Role: "technical", Name: "Li", Phone: "13800000002", Email: "tech@a.example"},
					{Role: "management", Name: "Zhang", Phone: "13800000003", Email: "mgmt@a.example"}},
				Versions: []appreg.Version{{Version: "1.0", SupplyVersionID: version}}}
		}
		vars := map[string]string{}
		e.runScenarios(t, vars, []apiScenario{
			{name: "file with the SBOM's version", method: "POST", url: "/api/v1/apps", user: "appops", body: jsonBody(in("cn.a.sbom", e.VersionA.ID)),
				status: http.StatusCreated, expect: []string{fmt.Sprintf(`"supply_version_id":%d`, e.VersionA.ID)},
				after: func(t *testing.T, body []byte, _ http.Header) { vars["id"] = fmt.Sprint(decode[appreg.App](t, body).ID) }},
			{name: "approve", method: "POST", url: "/api/v1/apps/{id}/review", user: "secofficer", body: jsonBody(appreg.Decision{Approve: true}),
				status: http.StatusOK, notExpect: []string{`"score":100`}},
			{name: "the vulnerabilities are findings", method: "GET", url: "/api/v1/apps/{id}/findings", user: "auditor", status: http.StatusOK,
				expect: []string{`"type":"vuln.open"`, "GHSA-test-0001 · requests@2.30.0", `"severity":"critical"`}},
			{name: "another hospital's version", method: "POST", url: "/api/v1/apps", user: "appops", body: jsonBody(in("cn.a.other", e.VersionB.ID)),
				status: http.StatusCreated,
				after: func(t *testing.T, body []byte, _ http.Header) { vars["other"] = fmt.Sprint(decode[appreg.App](t, body).ID) }},
			{name: "approve it", method: "POST", url: "/api/v1/apps/{other}/review", user: "secofficer", body: jsonBody(appreg.Decision{Approve: true}),
				status: http.StatusOK, expect: []string{`"score":100`}, notExpect: []string{productBName}},
		})
	})
}
