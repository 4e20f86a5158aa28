package assess_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/assess/assesstest"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/delivery"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

// scope is hospital A's scope at the world's now, over the last 30 days.
func (w *world) scope(assetID int64) assess.Scope {
	return assess.Scope{OrgID: w.hospA.ID, OrgPath: w.hospA.Path, AssetID: assetID, MLPSLevel: 3,
		From: w.now.AddDate(0, 0, -30), Now: w.now}
}

func run(t *testing.T, c assess.Check, sc assess.Scope) assess.Result {
	t.Helper()
	r, err := c.Run(context.Background(), sc)
	if err != nil {
		t.Fatalf("%s: %v", c.Name(), err)
	}
	return r
}

func wantOutcome(t *testing.T, what string, r assess.Result, outcome, key string) {
	t.Helper()
	if r.Outcome() != outcome || r.Message.Key != key {
		t.Fatalf("%s: %s %s (%+v), want %s %s", what, r.Outcome(), r.Message.Key, r, outcome, key)
	}
}

// TestCheckMFAAdmins: an administrator without MFA fails; all with MFA but no policy
// fails; all with MFA under the hospital's policy passes. B's admins do not count.
func TestCheckMFAAdmins(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		orgs := org.NewService(db, w.tl)
		users := auth.NewService(db, w.tl, auth.Options{MFAPolicy: orgs, Now: func() time.Time { return w.now }})
		c := assess.MFAAdmins(db, orgs)
		var admin auth.User
		for _, in := range []auth.UserInput{
			{OrgID: w.hospA.ID, Username: "admin.a", Role: "admin", Password: "Correct-Horse-9-Battery"},
			{OrgID: w.hospA.ID, Username: "doctor.a", Role: "auditor", Password: "Correct-Horse-9-Battery"},
			{OrgID: w.hospB.ID, Username: "admin.b", Role: "admin", Password: "Correct-Horse-9-Battery"},
		} {
			u, err := users.CreateUser(ctx, actor.System(), in)
			if err != nil {
				t.Fatal(err)
			}
			if in.Username == "admin.a" {
				admin = u
			}
		}
		r := run(t, c, w.scope(0))
		wantOutcome(t, "no MFA", r, "fail", "assess.check.mfa.missing")
		if d := cmp.Diff(map[string]int{"admins": 1, "without_mfa": 1, "enforced": 0}, r.Figures); d != "" {
			t.Fatalf("figures (-want +got):\n%s", d)
		}
		if len(r.Links) != 1 || r.Links[0].ID != admin.ID {
			t.Fatalf("links %+v", r.Links)
		}
		enr, err := users.BeginMFAEnrolment(ctx, admin.Actor(""))
		if err != nil {
			t.Fatal(err)
		}
		code, err := totp.GenerateCodeCustom(enr.Secret, w.now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := users.ConfirmMFAEnrolment(ctx, admin.Actor(""), code); err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, "MFA, not enforced", run(t, c, w.scope(0)), "fail", "assess.check.mfa.not_enforced")
		if _, err := orgs.Update(ctx, actor.System(), w.hospA.ID, org.Input{Name: w.hospA.Name, MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, "MFA enforced", run(t, c, w.scope(0)), "pass", "assess.check.mfa.pass")
		wantOutcome(t, "no policy source", run(t, assess.MFAAdmins(db, nil), w.scope(0)), "unavailable", "assess.check.unavailable")
	})
}

// TestCheckEventsRetention: a retention of 180 days (a setting the event store of an
// older release accepted) is short of six months; 200 days passes; events still within
// six months purged since the previous run fail.
func TestCheckEventsRetention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		key := bytes.Repeat([]byte{7}, events.KeySize)
		clock := func() time.Time { return w.now }
		if _, err := events.New(db, events.Options{Key: key, Retention: 180 * 24 * time.Hour, Now: clock}); err == nil {
			t.Fatal("the event store accepts a retention of 180 days")
		}
		short := retentionSetting(180 * 24 * time.Hour)
		long, err := events.New(db, events.Options{Key: key, Retention: 200 * 24 * time.Hour, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, "180 days", run(t, assess.EventsRetention(db, short), w.scope(0)), "fail", "assess.check.retention.short")
		c := assess.EventsRetention(db, long)
		wantOutcome(t, "no events", run(t, c, w.scope(0)), "pass", "assess.check.retention.pass_empty")
		old := w.now.AddDate(0, 0, -181)
		if _, err := long.Append(ctx, w.hospA.ID, []events.Event{
			{ID: "e1", Time: old, System: "HIS", Account: "doc1", Action: "view"},
			{ID: "e2", Time: w.now.AddDate(0, 0, -2), System: "HIS", Account: "doc1", Action: "view"},
		}); err != nil {
			t.Fatal(err)
		}
		sc := w.scope(0)
		r := run(t, c, sc)
		wantOutcome(t, "events kept", r, "pass", "assess.check.retention.pass")
		if r.Figures["events"] != 2 || r.Figures["oldest"] != int(old.Unix()) {
			t.Fatalf("figures %+v", r.Figures)
		}
		// A store purging after 180 days (an older release's setting) deletes the
		// 181-day-old event, which six months still cover.
		if res, err := db.ExecContext(ctx, `DELETE FROM events WHERE event_id = ?`, "e1"); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("purged %d events", n)
		}
		sc.Last = r.Figures
		wantOutcome(t, "purged early", run(t, c, sc), "fail", "assess.check.retention.purged")
	})
}

// TestCheckTrailChain: the chain verifies; an entry changed behind the trail's back
// breaks it.
func TestCheckTrailChain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.create(t, w.secA, 0)
		c := assess.TrailChain(db, w.tl)
		r := run(t, c, w.scope(0))
		wantOutcome(t, "intact", r, "pass", "assess.check.trail.pass")
		if r.Figures["entries"] < 3 {
			t.Fatalf("figures %+v", r.Figures)
		}
		if _, err := db.ExecContext(context.Background(), `UPDATE trail SET summary = 'nothing happened' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		r = run(t, c, w.scope(0))
		wantOutcome(t, "tampered", r, "fail", "assess.check.trail.broken")
		if r.Figures["bad_seq"] != 2 || len(r.Links) != 1 || r.Links[0] != (assess.Link{Module: "trail", ID: 2}) {
			t.Fatalf("broken at %+v %+v", r.Figures, r.Links)
		}
	})
}

// supplyWorld adds the supply chain (advisories of testdata/supply/osv) to w.
func supplyWorld(t *testing.T, w *world) (*supply.Service, supply.Product) {
	t.Helper()
	ctx := context.Background()
	vulns := vuln.Open(w.db)
	if _, err := vulns.Import(ctx, "testdata/supply/osv", vuln.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sup := supply.NewService(w.db, w.tl, vulns, w.al, nil)
	sup.SetClock(func() time.Time { return w.now })
	p, err := sup.CreateProduct(ctx, w.secA, supply.ProductInput{OrgID: w.hospA.ID, Name: "智慧门诊", Source: "self_built"})
	if err != nil {
		t.Fatal(err)
	}
	return sup, p
}

// TestCheckVulnSLA: a critical finding on a level-3 system passes within the critical
// SLA (24 h by default) and fails after it; a system's assessment sees only its system.
func TestCheckVulnSLA(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		sup, p := supplyWorld(t, w)
		v, err := sup.CreateVersion(ctx, w.secA, p.ID, supply.VersionInput{Version: "1.0", AssetIDs: []int64{w.sysA}})
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile("testdata/supply/app-1.0.cdx.json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sup.ImportSBOM(ctx, w.secA, v.ID, "app-1.0.cdx.json", data); err != nil {
			t.Fatal(err)
		}
		c := assess.VulnSLA(db, sup, w.al)
		w.now = w.now.Add(2 * time.Hour)
		r := run(t, c, w.scope(0))
		wantOutcome(t, "within SLA", r, "pass", "assess.check.vuln.pass")
		if r.Figures["critical_open"] != 2 || r.Figures["sla_hours"] != 24 { // two critical advisories in app-1.0
			t.Fatalf("figures %+v", r.Figures)
		}
		w.now = w.now.Add(48 * time.Hour)
		r = run(t, c, w.scope(0))
		wantOutcome(t, "past SLA", r, "fail", "assess.check.vuln.overdue")
		if len(r.Links) != 2 || r.Links[0].Module != "finding" || r.Figures["overdue"] != 2 {
			t.Fatalf("links %+v", r.Links)
		}
		// The server's assessment does not see the HIS's finding.
		wantOutcome(t, "another system", run(t, c, w.scope(w.serverA)), "pass", "assess.check.vuln.pass")
		wantOutcome(t, "no source", run(t, assess.VulnSLA(db, nil, w.al), w.scope(0)), "unavailable", "assess.check.unavailable")
	})
}

// TestCheckDLPScans: no scan in the period fails; a scan of A passes; B's does not count.
func TestCheckDLPScans(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		dlp, err := dlpsvc.New(db, w.tl, dlpsvc.Options{Key: bytes.Repeat([]byte{3}, 16)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(dlp.Close)
		dlp.SetClock(func() time.Time { return w.now })
		c := assess.DLPScans(db)
		if _, err := dlp.ScanText(ctx, w.secB, w.hospB.ID, "b.txt", "患者张三 身份证 110101199003071234"); err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, "none", run(t, c, w.scope(0)), "fail", "assess.check.dlp.none")
		res, err := dlp.ScanText(ctx, w.secA, w.hospA.ID, "a.txt", "患者李四 身份证 110101199003071234")
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, c, w.scope(0))
		wantOutcome(t, "scanned", r, "pass", "assess.check.dlp.pass")
		if len(r.Links) != 1 || r.Links[0].ID != res.Scan.ID {
			t.Fatalf("links %+v", r.Links)
		}
		w.now = w.now.AddDate(0, 0, 31) // the scan left the period
		wantOutcome(t, "old scan", run(t, c, w.scope(0)), "fail", "assess.check.dlp.none")
	})
}

// TestCheckIncidentClocks: a reportable incident not reported past its deadline fails;
// reported in time passes.
func TestCheckIncidentClocks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		inc, err := incident.New(db, w.tl, w.al, incident.Options{Now: func() time.Time { return w.now }})
		if err != nil {
			t.Fatal(err)
		}
		c := assess.IncidentClocks(db)
		wantOutcome(t, "none", run(t, c, w.scope(0)), "pass", "assess.check.incident.pass")
		in, err := inc.Open(ctx, w.secA, incident.Input{OrgID: w.hospA.ID, Level: "large",
			Details: incident.Details{Title: "HIS 勒索病毒", Category: "malware"}})
		if err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(time.Hour)
		wantOutcome(t, "clock running", run(t, c, w.scope(0)), "pass", "assess.check.incident.pass")
		w.now = w.now.Add(4 * time.Hour) // the 4-hour clock ran out
		r := run(t, c, w.scope(0))
		wantOutcome(t, "late", r, "fail", "assess.check.incident.late")
		if len(r.Links) != 1 || r.Links[0].ID != in.ID {
			t.Fatalf("links %+v", r.Links)
		}
		// A second incident reported within an hour; the first reported late stays late.
		in2, err := inc.Open(ctx, w.secA, incident.Input{OrgID: w.hospA.ID, Level: "large",
			Details: incident.Details{Title: "门户网站被篡改", Category: "malware"}})
		if err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(time.Hour)
		if _, err := inc.RecordReport(ctx, w.secA, in2.ID, incident.ReportInput{To: "卫生健康主管部门"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "卫生健康主管部门"}); err != nil {
			t.Fatal(err)
		}
		r = run(t, c, w.scope(0))
		if r.Figures["reportable"] != 2 || r.Figures["late"] != 1 || r.Pass {
			t.Fatalf("figures %+v", r.Figures)
		}
		w.now = w.now.AddDate(0, 0, 31) // both left the period
		wantOutcome(t, "period over", run(t, c, w.scope(0)), "pass", "assess.check.incident.pass")
	})
}

func fileOf(name string, data []byte) delivery.File {
	return delivery.File{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// TestCheckDeliveryVerified: a version that went live after a verified delivery passes;
// one that went live with none fails.
func TestCheckDeliveryVerified(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		sup, p := supplyWorld(t, w)
		if _, err := sup.SaveGate(ctx, w.secA, supply.GateDefinition{OrgID: w.hospA.ID, Name: "上线评审", Stage: "go_live"}); err != nil {
			t.Fatal(err)
		}
		c := assess.DeliveryVerified(db)
		wantOutcome(t, "nothing went live", run(t, c, w.scope(0)), "pass", "assess.check.delivery.pass")
		version := func(v string) supply.Version {
			ver, err := sup.CreateVersion(ctx, w.secA, p.ID, supply.VersionInput{Version: v, AssetIDs: []int64{w.sysA}})
			if err != nil {
				t.Fatal(err)
			}
			return ver
		}
		v2 := version("2.0")
		f := fileOf("app.bin", []byte("as built"))
		m, err := delivery.Build("院内", "智慧门诊", "2.0", "D-2.0", w.now, []delivery.File{f})
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		dl, err := sup.VerifyDelivery(ctx, w.secA, supply.DeliveryInput{VersionID: v2.ID, Manifest: manifest, Files: []delivery.File{f}})
		if err != nil || !dl.OK {
			t.Fatalf("delivery %+v %v", dl, err)
		}
		w.now = w.now.Add(time.Hour)
		if gr, err := sup.EvaluateGate(ctx, w.secA, v2.ID, "上线评审"); err != nil || !gr.Verdict.Passed {
			t.Fatalf("gate %+v %v", gr, err)
		}
		r := run(t, c, w.scope(0))
		wantOutcome(t, "verified first", r, "pass", "assess.check.delivery.pass")
		if r.Figures["went_live"] != 1 || len(r.Links) != 1 || r.Links[0] != (assess.Link{Module: "delivery", ID: dl.ID}) {
			t.Fatalf("result %+v", r)
		}
		v3 := version("3.0")
		if _, err := sup.EvaluateGate(ctx, w.secA, v3.ID, "上线评审"); err != nil {
			t.Fatal(err)
		}
		r = run(t, c, w.scope(0))
		wantOutcome(t, "not verified", r, "fail", "assess.check.delivery.unverified")
		if r.Figures["unverified"] != 1 || r.Links[0] != (assess.Link{Module: "version", ID: v3.ID}) {
			t.Fatalf("result %+v", r)
		}
	})
}

// The sources of the checks whose data live in other packages, as those packages will
// answer.
type training struct{ required, done int }

func (s training) Completion(context.Context, int64) (int, int, error) {
	return s.required, s.done, nil
}

type flows struct{ total, deficient int }

func (s flows) Deficient(context.Context, int64) (int, int, error) { return s.total, s.deficient, nil }

type policies struct{ total, overdue int }

func (s policies) OverdueReviews(context.Context, int64, time.Time) (int, int, error) {
	return s.total, s.overdue, nil
}

// TestPluggedChecks: training, data flows and policy reviews pass and fail on their
// sources' counts, and are not available without a source.
func TestPluggedChecks(t *testing.T) {
	sc := assess.Scope{OrgID: 1, OrgPath: "/1/", Now: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		c       assess.Check
		outcome string
		key     string
	}{
		{"training done", assess.TrainingCompletion(training{12, 12}), "pass", "assess.check.training.pass"},
		{"training missing", assess.TrainingCompletion(training{12, 9}), "fail", "assess.check.training.missing"},
		{"training no source", assess.TrainingCompletion(nil), "unavailable", "assess.check.unavailable"},
		{"flows fine", assess.DataflowRegister(flows{5, 0}), "pass", "assess.check.dataflow.pass"},
		{"flows deficient", assess.DataflowRegister(flows{5, 2}), "fail", "assess.check.dataflow.deficient"},
		{"flows no source", assess.DataflowRegister(nil), "unavailable", "assess.check.unavailable"},
		{"policies on time", assess.PolicyReviews(policies{8, 0}), "pass", "assess.check.policy.pass"},
		{"policies overdue", assess.PolicyReviews(policies{8, 3}), "fail", "assess.check.policy.overdue"},
		{"policies no source", assess.PolicyReviews(nil), "unavailable", "assess.check.unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantOutcome(t, tc.name, run(t, tc.c, sc), tc.outcome, tc.key)
		})
	}
}

// TestRecheckAndSweep: results are stored on every item whose node lists the check,
// with an expiry; a check without its source is not available; Sweep re-runs only
// assessments whose last run is old enough; another hospital cannot recheck.
func TestRecheckAndSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		as, err := assess.New(db, w.tl, assesstest.New(), assess.Options{Now: func() time.Time { return w.now },
			Checks: assess.DefaultChecks(assess.Sources{DB: db, Trail: w.tl, Training: training{4, 3}, Policies: policies{2, 0}})})
		if err != nil {
			t.Fatal(err)
		}
		x := w.create(t, w.secA, 0)
		if _, err := as.Recheck(ctx, w.secB, x.ID); err == nil {
			t.Fatal("B rechecks A's assessment")
		}
		got, err := as.Recheck(ctx, w.secA, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]string{}
		for _, it := range got.Items {
			for _, e := range it.Evidence {
				if e.Kind != assess.EvidenceCheck || e.ExpiresAt == nil || !e.ExpiresAt.Equal(w.now.AddDate(0, 0, 7)) || e.Expired {
					t.Fatalf("%s: evidence %+v", it.Item, e)
				}
				outcomes[it.Item+" "+e.Check] = e.Outcome
			}
		}
		want := map[string]string{
			"8.1.4.1.d mfa.admins":          "unavailable", // no MFA policy source
			"8.1.4.3.c events.retention":    "unavailable",
			"8.1.4.3.c trail.chain":         "pass",
			"8.1.4.5.e vuln.sla":            "unavailable",
			"8.1.9.8.a delivery.verified":   "pass",
			"8.1.9.8.b training.completion": "fail",
			"8.1.9.8.b policy.reviews":      "pass",
			"8.1.10.5.a dlp.scans":          "fail",
			"8.1.10.5.a dataflow.register":  "unavailable",
			"8.1.10.5.b incident.clocks":    "pass",
		}
		if d := cmp.Diff(want, outcomes); d != "" {
			t.Fatalf("outcomes (-want +got):\n%s", d)
		}
		if got.CheckedAt == nil || !got.CheckedAt.Equal(w.now) {
			t.Fatalf("checked at %v", got.CheckedAt)
		}
		// Within a day the sweep leaves it; after a day it runs again and the result is
		// replaced, not added.
		w.now = w.now.Add(time.Hour)
		if res, err := as.Sweep(ctx, w.now); err != nil || res.Assessments != 0 {
			t.Fatalf("sweep within a day: %+v %v", res, err)
		}
		w.now = w.now.Add(24 * time.Hour)
		if res, err := as.Sweep(ctx, w.now); err != nil || res.Assessments != 1 {
			t.Fatalf("sweep after a day: %+v %v", res, err)
		}
		it, err := as.Item(ctx, w.secA, x.ID, "8.1.9.8.b")
		if err != nil || len(it.Evidence) != 2 || !it.Evidence[0].AddedAt.Equal(w.now) {
			t.Fatalf("after the sweep %+v %v", it.Evidence, err)
		}
		// Eight days on, without a sweep, the results show as expired.
		w.now = w.now.AddDate(0, 0, 8)
		if it, _ = as.Item(ctx, w.secA, x.ID, "8.1.9.8.b"); !it.Evidence[0].Expired {
			t.Fatalf("not expired %+v", it.Evidence[0])
		}
	})
}

// retentionSetting is a retention the event store no longer accepts, for the check's
// failing case.
type retentionSetting time.Duration

func (r retentionSetting) Retention() time.Duration { return time.Duration(r) }
