package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// TestMigrateSupplyAlerts: a database holding supply-chain alerts at migration 0010
// (before titles were catalogue keys) and more stored at 0015 upgrades with every alert
// kept as an alert of source supply, and supply_alerts gone.
func TestMigrateSupplyAlerts(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, 10)
			t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			mkOrg := func(parent any, path, kind, name string) int64 {
				var id int64
				if err := db.QueryRowContext(ctx, `INSERT INTO orgs (parent_id, kind, name, path, created_at, updated_at)
					VALUES (?, ?, ?, '', ?, ?) RETURNING id`, parent, kind, name, t0, t0).Scan(&id); err != nil {
					t.Fatal(err)
				}
				p := fmt.Sprintf("%s%d/", path, id)
				if _, err := db.ExecContext(ctx, `UPDATE orgs SET path = ? WHERE id = ?`, p, id); err != nil {
					t.Fatal(err)
				}
				return id
			}
			prov := mkOrg(nil, "/", "province", "某省卫健委")
			hospA := mkOrg(prov, fmt.Sprintf("/%d/", prov), "hospital", "第一人民医院")
			hospB := mkOrg(prov, fmt.Sprintf("/%d/", prov), "hospital", "第二人民医院")
			type row struct {
				org                              int64
				kind, vuln, severity, title, det string
				ack                              bool
			}
			rows := []row{
				{hospA, "new_vulnerability", "GHSA-aaaa", "critical", "GHSA-aaaa affects 1 product version(s), 1 asset(s)", `{"vuln_id":"GHSA-aaaa"}`, false},
				{hospA, "new_vulnerability", "GHSA-aaaa", "critical", "GHSA-aaaa affects 2 product version(s), 1 asset(s)", `{"vuln_id":"GHSA-aaaa","n":2}`, false},
				{hospA, "new_vulnerability", "CVE-2026-1", "unknown", "CVE-2026-1 affects 1 product version(s), 0 asset(s)", `{"vuln_id":"CVE-2026-1"}`, true},
				{hospA, "delivery_failed", "", "high", "delivery D-1 of HIS 1.0 failed its integrity check", `{"delivery_id":7}`, false},
				{hospB, "new_vulnerability", "GHSA-aaaa", "low", "GHSA-aaaa affects 1 product version(s), 0 asset(s)", `{}`, true},
			}
			for i, r := range rows {
				at := t0.Add(time.Duration(i) * time.Hour)
				var ackAt any
				ackBy := ""
				if r.ack {
					ackAt, ackBy = at.Add(30*time.Minute), "alice"
				}
				if _, err := db.ExecContext(ctx, `INSERT INTO supply_alerts (org_id, kind, vuln_id, severity, title, detail, created_at,
					acknowledged_at, acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.org, r.kind, r.vuln, r.severity, r.title,
					r.det, at, ackAt, ackBy); err != nil {
					t.Fatal(err)
				}
			}
			// One more stored at 0015, with its title as a catalogue key.
			if _, err := db.MigrateTo(ctx, 15); err != nil {
				t.Fatal(err)
			}
			msg, _ := json.Marshal(i18n.M("supply.alert.new_vulnerability", "CVE-2026-9", 3, 4))
			if _, err := db.ExecContext(ctx, `INSERT INTO supply_alerts (org_id, kind, vuln_id, severity, title, title_msg, detail,
				created_at) VALUES (?, 'new_vulnerability', 'CVE-2026-9', 'medium', 'CVE-2026-9 affects 3 product version(s), 4 asset(s)', ?, '{}', ?)`,
				hospB, string(msg), t0.Add(10*time.Hour)); err != nil {
				t.Fatal(err)
			}

			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM supply_alerts`).Scan(&n); err == nil {
				t.Errorf("supply_alerts still exists (%d rows)", n)
			}
			svc, err := alert.New(db, trailtest.New(t, "sha256"))
			if err != nil {
				t.Fatal(err)
			}
			as, total, err := svc.List(ctx, actor.System(), alert.Filter{Source: "supply", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if total != 6 {
				t.Fatalf("%d alerts after the migration, want 6", total)
			}
			var got []string
			for i := len(as) - 1; i >= 0; i-- { // oldest first
				al := as[i]
				line := fmt.Sprintf("org%d %s %s %s %s %s|%s|%s|%s", map[int64]int{hospA: 1, hospB: 2}[al.OrgID], al.Kind, al.Subject,
					al.Severity, al.Status, al.AcknowledgedBy, al.Title, al.DedupKey, strings.ReplaceAll(string(al.Evidence), " ", ""))
				if al.TitleMsg != nil {
					line += "|" + al.TitleMsg.Key
				}
				if al.Count != 1 || !al.FirstSeen.Equal(al.LastSeen) || al.DueAt != nil {
					line += fmt.Sprintf("|count %d first %v last %v due %v", al.Count, al.FirstSeen, al.LastSeen, al.DueAt)
				}
				got = append(got, line)
			}
			want := []string{
				"org1 new_vulnerability GHSA-aaaa critical new |GHSA-aaaa affects 1 product version(s), 1 asset(s)|supply_alert:1|{\"vuln_id\":\"GHSA-aaaa\"}",
				"org1 new_vulnerability GHSA-aaaa critical new |GHSA-aaaa affects 2 product version(s), 1 asset(s)|new_vulnerability:GHSA-aaaa|{\"vuln_id\":\"GHSA-aaaa\",\"n\":2}",
				"org1 new_vulnerability CVE-2026-1 medium investigating alice|CVE-2026-1 affects 1 product version(s), 0 asset(s)|new_vulnerability:CVE-2026-1|{\"vuln_id\":\"CVE-2026-1\"}",
				"org1 delivery_failed  high new |delivery D-1 of HIS 1.0 failed its integrity check|supply_alert:4|{\"delivery_id\":7}",
				"org2 new_vulnerability GHSA-aaaa low investigating alice|GHSA-aaaa affects 1 product version(s), 0 asset(s)|new_vulnerability:GHSA-aaaa|{}",
				"org2 new_vulnerability CVE-2026-9 medium new |CVE-2026-9 affects 3 product version(s), 4 asset(s)|new_vulnerability:CVE-2026-9|{}|supply.alert.new_vulnerability",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("migrated alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Times kept.
			oldest := as[len(as)-1]
			if !oldest.FirstSeen.Equal(t0) {
				t.Errorf("first seen %v, want %v", oldest.FirstSeen, t0)
			}
			if ack := as[len(as)-3].AcknowledgedAt; ack == nil || !ack.Equal(t0.Add(2*time.Hour+30*time.Minute)) {
				t.Errorf("acknowledged at %v", ack)
			}
			// The advisory hitting hospital A again counts the newest migrated alert.
			var again alert.Alert
			err = db.InTx(ctx, func(tx *store.Tx) error {
				again, _, err = svc.Raise(ctx, tx, alert.Input{OrgID: hospA, Source: "supply", Kind: "new_vulnerability",
					Severity: "critical", Title: i18n.M("supply.alert.new_vulnerability", "GHSA-aaaa", 3, 1), Subject: "GHSA-aaaa",
					DedupKey: "new_vulnerability:GHSA-aaaa"})
				return err
			})
			if err != nil || again.Count != 2 || again.ID != as[len(as)-2].ID {
				t.Errorf("raise after the migration: %+v %v", again, err)
			}
		})
	}
}
