package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cases of `detect run` and `rules list|test`, added to TestCommands' table.
func init() {
	cmdCases = append(cmdCases,
		cmdCase{name: "help-detect-run", args: []string{"help", "detect", "run"}},
		cmdCase{name: "help-rules-test", args: []string{"help", "rules", "test"}},
		cmdCase{name: "rules-list", args: []string{"rules", "list"}},
		cmdCase{name: "rules-list-bad-format", args: []string{"rules", "list", "--format", "xml"}},
		cmdCase{name: "rules-test-unknown-rule", args: []string{"rules", "test", "no-such-rule", "--from", "2026-03-01", "--to", "2026-04-01"}},
		cmdCase{name: "rules-test-no-to", args: []string{"rules", "test", "bulk-export", "--from", "2026-03-01"}},
		cmdCase{name: "rules-test-bad-from", args: []string{"rules", "test", "bulk-export", "--from", "yesterday", "--to", "2026-04-01"}},
		cmdCase{name: "rules-test-bad-file", args: []string{"rules", "test", "$TMP/bad-rule.yaml", "--from", "2026-03-01", "--to", "2026-04-01",
			"--data", "$DATA"}, setup: detectEvents},
		cmdCase{name: "rules-test-table", args: []string{"rules", "test", "brute-force", "--from", "2026-03-01", "--to", "2026-04-01",
			"--data", "$DATA"}, setup: detectEvents},
		cmdCase{name: "rules-test-file-json", args: []string{"rules", "test", "$TMP/rule.yaml", "--from", "2026-03-30", "--to", "2026-04-01",
			"--format", "json", "--data", "$DATA"}, setup: detectEvents},
		cmdCase{name: "rules-test-outside", args: []string{"rules", "test", "bulk-export", "--from", "2026-04-01", "--to", "2026-05-01",
			"--data", "$DATA"}, setup: detectEvents},
		cmdCase{name: "detect-run", args: []string{"detect", "run", "--data", "$DATA"}, setup: detectEvents},
		cmdCase{name: "detect-run-bad-span", args: []string{"detect", "run", "--from", "2026-04-01", "--to", "2026-03-01"}},
	)
}

// detectEvents imports a brute force, a bulk export and views of a patient, and writes
// a rule file and a rule file naming a field that does not exist.
func detectEvents(t *testing.T, data, tmp string) {
	t.Helper()
	var b strings.Builder
	ev := func(id, tm, action, extra string) {
		b.WriteString(`{"id":"` + id + `","time":"2026-03-31T` + tm + `+08:00","system":"HIS","account":"doc1","action":"` + action + `"` + extra + "}\n")
	}
	for i, s := range []string{"00", "08", "16", "24", "32", "40"} {
		ev("f"+string(rune('0'+i)), "09:00:"+s, "login_failure", `,"outcome":"failure","source_ip":"10.1.1.1"`)
	}
	ev("ok", "09:00:50", "login", `,"source_ip":"10.1.1.1","terminal":"WS-1"`)
	ev("x1", "10:00:00", "export", `,"record_count":12000,"record_type":"emr"`)
	ev("v1", "10:05:00", "view", `,"patient_id":"P-0000077"`)
	files := map[string]string{
		"e.ndjson":      b.String(),
		"rule.yaml":     "id: doc1-views\nversion: 1\nname: {zh: 查看, en: Views}\nseverity: low\nkind: match\nmatch: {action: view, account: doc1}\n",
		"bad-rule.yaml": "id: typo\nversion: 1\nname: {zh: 查看, en: Views}\nseverity: low\nkind: match\nmatch: {action: view, acount: doc1}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "events", "import", filepath.Join(tmp, "e.ndjson"), "--data", data)
}
