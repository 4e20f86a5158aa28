package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMonitoringFromTheCommandLine is the monitoring contract end to end: reference data
// and events imported from files, `detect run`, then `alerts list --format json` shows
// each monitoring alert with its rule, account, masked patient id, grouped fields and
// time range — a family access (same surname and address) and a self-access here.
func TestMonitoringFromTheCommandLine(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	files := map[string]string{
		"staff.csv":    "staff_id,account,name,department,role,address\nS1,u1,王芳,心内科,nurse,东城区和平里1号1-101\nS2,u2,李强,骨科,doctor,西城区建设路2号2-202\n",
		"patients.csv": "patient_id,name,address,vip,deceased_on,staff_id\nP1,王伟,东城区和平里1号1-101,false,,\nP2,赵敏,朝阳区幸福路3号3-303,true,,\nP3,李强,西城区建设路2号2-202,false,,S2\n",
		"enc.csv":      "patient_id,staff_id,department,start,end\nP2,S2,骨科,2026-03-01 08:00:00,\n",
		"ev.ndjson": `{"id":"e1","time":"2026-03-02T09:00:00+08:00","system":"EMR","account":"u1","staff_id":"S1","department":"心内科","action":"view","patient_id":"P1000001","record_type":"emr","source_ip":"10.1.1.1","terminal":"WS-1"}
{"id":"e2","time":"2026-03-02T09:01:00+08:00","system":"EMR","account":"u2","staff_id":"S2","department":"骨科","action":"view","patient_id":"P3","record_type":"emr","source_ip":"10.1.1.2","terminal":"WS-2"}
{"id":"e3","time":"2026-03-02T09:02:00+08:00","system":"EMR","account":"u1","staff_id":"S1","department":"心内科","action":"view","patient_id":"P1","record_type":"emr","source_ip":"10.1.1.1","terminal":"WS-1"}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "reference", "import", "--kind", "staff", filepath.Join(tmp, "staff.csv"), "--data", dir)
	mustRun(t, "reference", "import", "--kind", "patients", filepath.Join(tmp, "patients.csv"), "--data", dir)
	mustRun(t, "reference", "import", "--kind", "encounters", filepath.Join(tmp, "enc.csv"), "--data", dir)
	mustRun(t, "events", "import", filepath.Join(tmp, "ev.ndjson"), "--format", "json", "--data", dir)
	mustRun(t, "detect", "run", "--data", dir)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"alerts", "list", "--format", "json", "--source", "monitor", "--data", dir},
		strings.NewReader(""), &out, &errb, noEnv, nil); code != 0 {
		t.Fatalf("alerts list: exit %d: %s", code, errb.String())
	}
	var as []map[string]any
	if err := json.Unmarshal(out.Bytes(), &as); err != nil {
		t.Fatalf("alerts list JSON: %v\n%s", err, out.String())
	}
	rules := map[string]map[string]any{}
	for _, a := range as {
		r, _ := a["rule"].(string)
		if r == "" {
			t.Errorf("a monitoring alert without its rule: %v", a)
		}
		rules[r] = a
	}
	fam, self := rules["family-access"], rules["self-access"]
	if fam == nil || self == nil {
		t.Fatalf("want family-access and self-access alerts, got %v", out.String())
	}
	if fam["account"] != "u1" || fam["patient_id"] != "****" || fam["from"] == nil || fam["to"] == nil {
		t.Errorf("family alert: %v", fam)
	}
	if self["account"] != "u2" {
		t.Errorf("self alert: %v", self)
	}
	if strings.Contains(out.String(), `"P1"`) || strings.Contains(out.String(), "P1000001") {
		t.Errorf("a clear patient id in the alerts:\n%s", out.String())
	}
}
