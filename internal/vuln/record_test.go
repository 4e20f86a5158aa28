package vuln_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/medguard/medguard/internal/vuln"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRecordErrors(t *testing.T) {
	for _, c := range []struct {
		name, data, place, want string
	}{
		{"no id", `{"modified":"2021-01-01T00:00:00Z"}`, "all.zip!GO-2022-0001.json", "all.zip!GO-2022-0001.json: id: missing or empty"},
		{"no modified", `{"id":"X-1"}`, "x/X-1.json", "x/X-1.json: record X-1 has no modified time"},
		{"not JSON", `{"id":`, "a.json", "a.json: not a valid OSV record"},
		{"trailing data", `{"id":"X-1","modified":"2021-01-01T00:00:00Z"} {}`, "a.json", "a.json: not a valid OSV record"},
		{"time without zone", `{"id":"X-1","modified":"2021-01-01T00:00:00"}`, "a.json", "invalid google.protobuf.Timestamp"},
		{"number for string", `{"id":"X-1","modified":"2021-01-01T00:00:00Z","aliases":[1]}`, "a.json", "a.json: not a valid OSV record"},
		{"repeated key", `{"id":"X-1","id":"X-2","modified":"2021-01-01T00:00:00Z"}`, "a.json", "duplicate field"},
		{"id with space", `{"id":"X 1","modified":"2021-01-01T00:00:00Z"}`, "a.json", "white space"},
		{"bad alias", `{"id":"X-1","modified":"2021-01-01T00:00:00Z","aliases":["ok",""]}`, "a.json", "aliases[1]: missing or empty"},
		{"YAML syntax", "id: [", "b.yaml", "b.yaml: YAML"},
		{"YAML alias", "id: &a X-1\nmodified: 2021-01-01T00:00:00Z\nsummary: *a\n", "b.yml", "aliases (*a) are not supported"},
		{"YAML duplicate", "id: X-1\nid: X-2\n", "b.yaml", "line 2: duplicate key \"id\""},
		{"empty YAML", "", "b.yaml", "empty YAML document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := vuln.ParseRecord([]byte(c.data), c.place)
			if err == nil {
				t.Fatalf("ParseRecord succeeded")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vuln: "+c.place+": ") {
				t.Fatalf("error %q, want prefix %q and %q", err, "vuln: "+c.place+": ", c.want)
			}
		})
	}
}

func TestParseRecordYAML(t *testing.T) {
	r, err := vuln.ParseRecord(readTestdata(t, "osv/yaml/PYSEC-2024-52.yaml"), "PYSEC-2024-52.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "PYSEC-2024-52" || !r.Modified.Equal(time.Date(2024, 6, 9, 21, 20, 21, 309692000, time.UTC)) {
		t.Fatalf("id %q modified %v", r.ID, r.Modified)
	}
	if len(r.Affected) != 1 || r.Affected[0].Name != "authlib" {
		t.Fatalf("affected = %+v", r.Affected)
	}
	// Unquoted YAML scalars that look like numbers stay the strings they are.
	vs := r.Affected[0].Versions
	if !contains(vs, "0.10") || !contains(vs, "0.1") || !contains(vs, "0.12.1") {
		t.Fatalf("versions %v", vs)
	}
	if !r.Affected[0].Contains("1.3.0") || r.Affected[0].Contains("1.3.1") {
		t.Fatal("authlib 1.3.0 should be affected and 1.3.1 not")
	}

	y := "id: Y-1\nmodified: 2021-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: x}\n  versions: [1.10, 2.0, 3]\n" +
		"database_specific: {score: 1.5, flag: true, n: 3, s: text, none: null}\n"
	r, err = vuln.ParseRecord([]byte(y), "y.yml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.10", "2.0", "3"}, r.Affected[0].Versions); diff != "" {
		t.Fatalf("versions (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(r.Raw), `"database_specific":{"flag":true,"n":3,"none":null,"s":"text","score":1.5}`) {
		t.Fatalf("raw %s", r.Raw)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseRecordJSON(t *testing.T) {
	data := readTestdata(t, "osv/PyPI/PYSEC-2023-129.json")
	r, err := vuln.ParseRecord(data, "PYSEC-2023-129.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.GitRanges != 1 || len(r.Affected) != 1 || len(r.Affected[0].Ranges) != 2 || r.Affected[0].Ranges[0].Type != "GIT" ||
		r.Affected[0].Ranges[1].Type != "ECOSYSTEM" {
		t.Fatalf("git ranges %d, affected %+v", r.GitRanges, r.Affected)
	}
	if diff := cmp.Diff([]string{"CVE-2023-37901", "GHSA-fmqq-25x9-c6hm"}, r.Aliases); diff != "" {
		t.Fatalf("aliases (-want +got):\n%s", diff)
	}
	if r.Severity.Type != "CVSS_V3" || r.Severity.Level == vuln.LevelUnknown {
		t.Fatalf("severity %+v", r.Severity)
	}
	// The canonical form parses to the same record and is a fixed point.
	again, err := vuln.ParseRecord(r.Raw, "raw.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, again, cmpopts.IgnoreUnexported(vuln.Affected{})); diff != "" {
		t.Fatalf("re-parsed canonical record differs (-first +again):\n%s", diff)
	}
	if strings.Contains(string(r.Raw), "\n") || !strings.HasPrefix(string(r.Raw), `{"affected":`) {
		t.Fatalf("raw is not compact with sorted keys: %.80s", r.Raw)
	}
	// Unknown fields and enum values are ignored.
	r, err = vuln.ParseRecord([]byte(`{"id":"X-1","modified":"2021-01-01T00:00:00Z","future_field":{"a":1},
		"references":[{"type":"NEW_KIND","url":"https://example.com"}],
		"affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"NEW_TYPE","events":[{"introduced":"0"}]}]}]}`), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Affected[0].Ranges) != 0 || r.Affected[0].Contains("1.0.0") {
		t.Fatalf("a range of unknown type was kept: %+v", r.Affected[0])
	}
	// Timestamps keep microseconds, the precision both databases store.
	r, err = vuln.ParseRecord([]byte(`{"id":"X-1","modified":"2021-01-01T00:00:00.123456789Z","withdrawn":"2022-01-01T00:00:00+02:00"}`), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Modified.Nanosecond() != 123456000 || r.Withdrawn == nil || !r.Withdrawn.Equal(time.Date(2021, 12, 31, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("modified %v withdrawn %v", r.Modified, r.Withdrawn)
	}
}

func TestSeverity(t *testing.T) {
	rec := func(sev, extra string) string {
		return `{"id":"S-1","modified":"2021-01-01T00:00:00Z","severity":[` + sev + `]` + extra + `}`
	}
	for _, c := range []struct {
		name, json string
		want       vuln.Severity
	}{
		{"CVSS 3.1", rec(`{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}`, ""),
			vuln.Severity{Type: "CVSS_V3", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Level: "critical"}},
		{"CVSS 3.1 scope changed", rec(`{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"}`, ""),
			vuln.Severity{Type: "CVSS_V3", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", Score: 6.8, Level: "medium"}},
		{"CVSS 3.0", rec(`{"type":"CVSS_V3","score":"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}`, ""),
			vuln.Severity{Type: "CVSS_V3", Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", Score: 8.8, Level: "high"}},
		{"CVSS 4.0", rec(`{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}`, ""),
			vuln.Severity{Type: "CVSS_V4", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Score: 9.3, Level: "critical"}},
		{"CVSS 4.0 no impact", rec(`{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"}`, ""),
			vuln.Severity{Type: "CVSS_V4", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", Score: 0, Level: "none"}},
		{"CVSS 2", rec(`{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:P/I:P/A:P"}`, ""),
			vuln.Severity{Type: "CVSS_V2", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Score: 7.5, Level: "high"}},
		{"v4 preferred over a higher v3", rec(`{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
			{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"}`, ""),
			vuln.Severity{Type: "CVSS_V4", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", Score: 0, Level: "none"}},
		{"affected severity counts", rec(``, `,"affected":[{"package":{"ecosystem":"npm","name":"a"},
			"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}]`),
			vuln.Severity{Type: "CVSS_V3", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Level: "critical"}},
		{"invalid vector falls back", rec(`{"type":"CVSS_V3","score":"CVSS:3.1/AV:X"},{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:P/I:P/A:P"}`, ""),
			vuln.Severity{Type: "CVSS_V2", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Score: 7.5, Level: "high",
				Note: `CVSS v3.1 vector "CVSS:3.1/AV:X": invalid metric value`}},
		{"only invalid vectors", rec(`{"type":"CVSS_V4","score":"nonsense"}`, ""),
			vuln.Severity{Level: "unknown", Note: `CVSS v4.0 vector "nonsense": invalid CVSS v4.0 header`}},
		{"database rating", rec(``, `,"database_specific":{"severity":"MODERATE"}`),
			vuln.Severity{Type: "database", Vector: "MODERATE", Level: "medium"}},
		{"Ubuntu priority", rec(`{"type":"Ubuntu","score":"high"}`, ""),
			vuln.Severity{Type: "database", Vector: "high", Level: "high"}},
		{"nothing", rec(``, ""), vuln.Severity{Level: "unknown"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := vuln.ParseRecord([]byte(c.json), "s.json")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, r.Severity); diff != "" {
				t.Fatalf("severity (-want +got):\n%s", diff)
			}
		})
	}
	for score, want := range map[float64]string{0: "none", 0.1: "low", 3.9: "low", 4: "medium", 6.9: "medium", 7: "high", 8.9: "high", 9: "critical", 10: "critical"} {
		if got := vuln.LevelOf(score); got != want {
			t.Errorf("LevelOf(%v) = %q, want %q", score, got, want)
		}
	}
}
