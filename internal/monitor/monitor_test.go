package monitor_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/monitor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

func who(n org.Node) actor.Actor {
	return actor.Actor{Username: "u", Role: "auditor", OrgID: n.ID, OrgPath: n.Path}
}

// TestStats: the monitoring alerts of the range are counted by rule, by the department
// the account's events name, by severity and by the explanation class of their evidence;
// alerts of other sources, outside the range or of another hospital are not; the event
// rates come with them; an empty or too long range is refused.
func TestStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		orgs := org.NewService(db, tl)
		mk := func(parent int64, kind, name string) org.Node {
			n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		prov := mk(0, org.KindProvince, "省")
		hospA := mk(prov.ID, org.KindHospital, "A")
		hospB := mk(prov.ID, org.KindHospital, "B")
		key := make([]byte, events.KeySize)
		_, _ = rand.Read(key)
		evs, err := events.New(db, events.Options{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		al, err := alert.New(db, tl)
		if err != nil {
			t.Fatal(err)
		}
		to := time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC)
		from := to.Add(-monitor.DefaultRange)
		ev := func(id, account, dept string, at time.Time) events.Event {
			return events.Event{ID: id, Time: at, System: "EMR", Account: account, Department: dept, Action: events.ActionLogin}
		}
		if _, err := evs.Append(ctx, hospA.ID, []events.Event{
			ev("1", "doc1", "心内科", to.Add(-48*time.Hour)),
			ev("2", "doc1", "急诊科", to.Add(-30*time.Minute)), // the latest before the alert names the department
			ev("3", "nurse", "急诊科", to.Add(-90*time.Minute)),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := evs.Append(ctx, hospB.ID, []events.Event{ev("1", "docB", "骨科", to.Add(-time.Hour))}); err != nil {
			t.Fatal(err)
		}
		raise := func(orgID int64, source, kind, sev, account, class string, at time.Time) {
			t.Helper()
			in := alert.Input{OrgID: orgID, Source: source, Kind: kind, Severity: sev, Account: account,
				Title: i18n.M("alert.dlp.outside_allowed", "x", 1), Subject: account + kind, At: at}
			if class != "" {
				in.Evidence = map[string]any{"explanation": map[string]any{"class": class}}
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { _, _, err := al.Raise(ctx, tx, in); return err }); err != nil {
				t.Fatal(err)
			}
		}
		raise(hospA.ID, "monitor", "after_hours", "medium", "doc1", "unexplained", to.Add(-10*time.Minute))
		raise(hospA.ID, "monitor", "vip_access", "high", "nurse", "flagged", to.Add(-80*time.Minute))
		raise(hospA.ID, "monitor", "after_hours", "medium", "nurse", "", to.Add(-20*time.Minute))
		raise(hospA.ID, "monitor", "brute_force", "high", "", "", to.Add(-time.Hour))
		raise(hospA.ID, "monitor", "after_hours", "medium", "late", "", from.Add(-time.Hour)) // before the range
		raise(hospA.ID, "dlp", "dlp_alert", "high", "doc1", "", to.Add(-time.Hour))           // another source
		raise(hospB.ID, "monitor", "after_hours", "low", "docB", "explained", to.Add(-time.Hour))

		svc := monitor.New(db, evs)
		svc.SetClock(func() time.Time { return to })
		got := func(a actor.Actor) monitor.Stats {
			t.Helper()
			st, err := svc.Stats(ctx, a, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		a := got(who(hospA))
		checks := []struct{ name, got, want string }{
			{"alerts", fmt.Sprint(a.Alerts), "4"},
			{"by rule", fmt.Sprint(a.ByRule), "[{after_hours 2} {brute_force 1} {vip_access 1}]"},
			{"by department", fmt.Sprint(a.ByDepartment), "[{急诊科 3} { 1}]"},
			{"by severity", fmt.Sprint(a.BySeverity), "[{critical 0} {high 2} {medium 2} {low 0} {info 0}]"},
			{"by class", fmt.Sprint(a.ByClass), "[{explained 0} {flagged 1} {unexplained 1} { 2}]"},
			{"range", a.From.Format(time.RFC3339) + " " + a.To.Format(time.RFC3339), "2026-04-01T12:00:00Z 2026-04-15T12:00:00Z"},
			{"per minute", fmt.Sprint(len(a.PerMinute.Buckets), a.PerMinute.Total), "60 1"},
			{"per hour", fmt.Sprint(len(a.PerHour.Buckets), a.PerHour.Total), "336 3"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("hospital A %s: got %s, want %s", c.name, c.got, c.want)
			}
		}
		if all := got(actor.System()); all.Alerts != 5 || all.PerHour.Total != 4 {
			t.Errorf("everyone: %d alerts, %d events; want 5, 4", all.Alerts, all.PerHour.Total)
		}
		if none := got(actor.Actor{Username: "x", Role: "auditor"}); none.Alerts != 0 || none.PerHour.Total != 0 {
			t.Errorf("no organisation: %d alerts, %d events; want none", none.Alerts, none.PerHour.Total)
		}
		for _, r := range [][2]time.Time{{to, to}, {to.Add(-monitor.MaxRange - time.Hour), to}} {
			if _, err := svc.Stats(ctx, who(hospA), r[0], r[1]); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("range %v: got %v, want an invalid-input problem", r, err)
			}
		}
	})
}
