package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/training"
)

// bodyTypes returns a fresh value of every JSON request body the API decodes.
func bodyTypes() map[string]any {
	return map[string]any{
		"asset.Input":     &asset.Input{},
		"org.Input":       &org.Input{},
		"auth.UserInput":  &auth.UserInput{},
		"auth.UserUpdate": &auth.UserUpdate{},
		"password":        &passwordRequest{},
		"token":           &tokenRequest{},
		"locale":          &localeRequest{},
		"retire":          &retireRequest{},

		"supply.VendorInput":    &supply.VendorInput{},
		"supply.ProductInput":   &supply.ProductInput{},
		"supply.VersionInput":   &supply.VersionInput{},
		"supply.GateDefinition": &supply.GateDefinition{},
		"contract":              &contractRequest{},
		"vendorKey":             &vendorKeyRequest{},
		"versionAssets":         &versionAssetsRequest{},
		"decision":              &decisionRequest{},

		"dlpText":       &dlpTextRequest{},
		"dlpJob":        &dlpJobRequest{},
		"dlpsvc.Policy": &dlpsvc.Policy{},

		// Compliance (issue 17).
		"assess.Input":          &assess.Input{},
		"assessStatus":          &assessStatusRequest{},
		"assessLink":            &assessLinkRequest{},
		"assessRisk":            &assessRiskRequest{},
		"policy.Input":          &policy.Input{},
		"policy.Decision":       &policy.Decision{},
		"policyRetire":          &policyRetireRequest{},
		"policy.ReviewInput":    &policy.ReviewInput{},
		"policy.RoleInput":      &policy.RoleInput{},
		"policy.CheckInput":     &policy.CheckInput{},
		"training.CourseInput":  &training.CourseInput{},
		"training.SessionInput": &training.SessionInput{},
		"attendance":            &attendanceRequest{},
		"submit":                &submitRequest{},
		"dataflow.Input":        &dataflow.Input{},
		"dataflow.EndInput":     &dataflow.EndInput{},
		"report.GenerateInput":  &report.GenerateInput{},
		"report.TemplateInput":  &report.TemplateInput{},
	}
}

// FuzzJSONBodies feeds arbitrary bytes to the decoder of every JSON request body: it
// must never panic, and every failure must be a client-safe problem that does not echo
// the body back (seeds put echoMarker where encoding/json would quote it).
func FuzzJSONBodies(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"name":"HIS","kind":"server","zone":"internal","org_id":1}`, `[]`, `null`, `"x"`, `{"tags":["a","b"]}`,
		`{"mlps_level":"3"}`, `{"org_id":1e400}`, `{"unknown":1}`, `{} {}`, `{"a":`, "\xff\xfe{}", strings.Repeat("[", 10000),
		`{"password":"x","password":"y"}`, `{"expires_in_days":-1,"scope":"write"}`,
		`{"name":"某某医疗软件有限公司","uscc":"91350100M000100Y43","approved":true}`,
		`{"vendor_id":3,"name":"HIS","source":"purchased"}`, `{"version":"1.0","asset_ids":[1,2,-3]}`,
		`{"asset_ids":[1e3]}`, `{"asset_ids":null}`, `{"state":"accepted","reason":"内网隔离","expires_at":"2026-07-01"}`,
		`{"name":"strict","stage":"go_live","rules":{"block_severity":"low","require_sbom":true}}`,
		`{"rules":{"unknown":true}}`, `{"fingerprint":"AB:CD","label":"2026 cert"}`,
		`{"text":"患者王小明，身份证号440306199003071232","name":"note"}`, `{"path":"/srv/exports","org_id":2}`,
		`{"block_level":4,"alert_level":2,"unreadable":"block","custom":[{"name":"medical_record_no","pattern":"BA\\d{8}","context":["病案号"]}]}`,
		`{"` + echoMarker + `":1}`, `{"rules":{"` + echoMarker + `":true}}`, `{"custom":[{"name":"a","x` + echoMarker + `":1}]}`,
		`{"catalogue":"mlps3","title":"HIS 等保测评","asset_id":3}`, `{"item":"8.1.4.1.d","status":"not_met","note":"老旧终端"}`,
		`{"name":"医保结算","recipient_kind":"medical_insurance","categories":[{"category":"health","level":3}]}`,
		`{"period":"2026-W48","sections":["summary"],"formats":["pdf"]}`, `{"answers":{"1":["A","C"]}}`,
		`{"org_id":` + echoMarker + `000000}`, `{"name":` + echoMarker + `}`, echoMarker, `{"name":"x"} ` + echoMarker,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, dst := range bodyTypes() {
			err := decodeJSONFrom(bytes.NewReader(body), dst)
			if err == nil {
				continue
			}
			pe, ok := problem.As(err)
			if !ok {
				t.Fatalf("%s: error is not a problem: %v", name, err)
			}
			if pe.Kind != problem.KindInvalid {
				t.Fatalf("%s: problem kind %v, want invalid", name, pe.Kind)
			}
			if len(body) > 24 && strings.Contains(pe.Message, string(body)) {
				t.Fatalf("%s: message echoes the body: %q", name, pe.Message)
			}
			if bytes.Contains(body, []byte(echoMarker)) && strings.Contains(pe.Message, echoMarker) {
				t.Fatalf("%s: message echoes the body: %q", name, pe.Message)
			}
		}
	})
}

func TestDecodeJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, code string }{
		{"empty", ``, "bad_json"},
		{"array", `[]`, "bad_json"},
		{"unknown field", `{"name":"a","nope":1}`, "bad_json"},
		{"trailing", `{"name":"a"} {"name":"b"}`, "bad_json"},
		{"wrong type", `{"name":1}`, "bad_json"},
		{"too big", `{"name":"` + strings.Repeat("a", maxJSONBody) + `"}`, "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in org.Input
			err := decodeJSONFrom(strings.NewReader(tc.body), &in)
			pe, ok := problem.As(err)
			if !ok || pe.Code != tc.code {
				t.Fatalf("decode %s: %v, want code %s", tc.name, err, tc.code)
			}
		})
	}
	var in org.Input
	if err := decodeJSONFrom(strings.NewReader(`{"name":"ICU","kind":"department","parent_id":3}`), &in); err != nil || in.Name != "ICU" || in.ParentID != 3 {
		t.Fatalf("good body: %v %+v", err, in)
	}
}

// FuzzDecisionRequest feeds arbitrary decision bodies through decoding and conversion:
// an expiry is either refused with a problem naming expires_at or parsed, never a panic.
func FuzzDecisionRequest(f *testing.F) {
	for _, s := range []string{
		`{"state":"accepted","reason":"x","expires_at":"2026-07-01"}`, `{"expires_at":"2026-07-01T08:00:00+08:00"}`,
		`{"expires_at":"2026-02-30"}`, `{"expires_at":"9999-12-31"}`, `{"expires_at":"0000-01-01"}`, `{"expires_at":" "}`,
		`{"expires_at":"2026-07-01T25:00:00Z"}`, `{"state":"open"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in decisionRequest
		if err := decodeJSONFrom(bytes.NewReader(body), &in); err != nil {
			return
		}
		d, err := in.decision()
		if err != nil {
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Field != "expires_at" {
				t.Fatalf("expiry %q: %v", in.ExpiresAt, err)
			}
			return
		}
		if strings.TrimSpace(in.ExpiresAt) == "" && d.ExpiresAt != nil {
			t.Fatalf("no expiry given, got %v", d.ExpiresAt)
		}
		if strings.TrimSpace(in.ExpiresAt) != "" && d.ExpiresAt == nil {
			t.Fatalf("expiry %q was lost", in.ExpiresAt)
		}
	})
}

// FuzzSafeFileName checks that whatever name a client gives an upload, the file it is
// saved as stays inside our directory and keeps the extension the importer needs.
func FuzzSafeFileName(f *testing.F) {
	for _, s := range []string{"all.zip", "../../etc/passwd.json", `C:\\osv\\GHSA-1.yaml`, "...zip", ".json", "漏洞.zip",
		"a/b/c.yml", "\x00.json", strings.Repeat("x", 300) + ".zip"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, ext := range []string{".zip", ".json", ".yaml", ".yml"} {
			got := safeFileName(name, ext)
			if !strings.HasSuffix(got, ext) || len(got) <= len(ext) {
				t.Fatalf("safeFileName(%q, %q) = %q: lost its stem or extension", name, ext, got)
			}
			if strings.ContainsAny(got, "/\\\x00") || strings.HasPrefix(got, ".") || len(got) > 80+len(ext) {
				t.Fatalf("safeFileName(%q, %q) = %q: not a plain file name", name, ext, got)
			}
		}
	})
}

// echoMarker stands for a patient identifier a client may put anywhere in a request.
const echoMarker = "440305198807150031"

// TestDecodeJSONDoesNotEcho sends bodies carrying echoMarker where encoding/json would
// quote it: the message names the place (line and column, the schema path of the
// object) and never the marker nor encoding/json's prefix.
func TestDecodeJSONDoesNotEcho(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dst  any
		body string
		want string
	}{
		{"unknown field", &org.Input{}, `{"name":"x","` + echoMarker + `":1}`, "unknown field at line 1, column 13 in the object $"},
		{"unknown nested field", &supply.GateDefinition{}, "{\"name\":\"g\",\n \"rules\":{\"" + echoMarker + "\":true}}", "unknown field at line 2, column 11 in the object $.rules"},
		{"unknown field in a list", &dlpsvc.Policy{}, `{"custom":[{"name":"a"},{"name":"b","x` + echoMarker + `":1}]}`, "in the object $.custom[1]"},
		{"number too large", &org.Input{}, `{"parent_id":` + echoMarker + `00000000000}`, `field "parent_id" is out of range (the value ending at line 1, column 42)`},
		{"number for a string", &org.Input{}, `{"name":` + echoMarker + `}`, `field "name" must be a JSON string, not number`},
		{"top-level number", &org.Input{}, echoMarker, "the body must be a JSON object (found number)"},
		{"syntax", &org.Input{}, "{\"name\":\n\"" + echoMarker + "\" x}", "malformed JSON at line 2, column"},
		{"trailing data", &org.Input{}, `{"name":"x"}` + "\n" + echoMarker, "data after the JSON object (line 2, column 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeJSONFrom(strings.NewReader(tc.body), tc.dst)
			pe, ok := problem.As(err)
			if !ok || pe.Code != "bad_json" {
				t.Fatalf("%v, want a bad_json problem", err)
			}
			if strings.Contains(pe.Message, echoMarker) || strings.Contains(pe.Message, "json:") || !strings.Contains(pe.Message, tc.want) {
				t.Errorf("message %q, want %q and neither the marker nor the json: prefix", pe.Message, tc.want)
			}
		})
	}
}
