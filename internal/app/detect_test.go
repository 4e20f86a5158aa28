package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/org"
)

// TestStartRunsDetection: a serving process runs the live detection — events stored
// after it started become alerts with their rule, through the reference data and the
// explainer it shares with the pages — and a rule the hospital disables stops firing
// once the process has seen the change of the stored rules.
func TestStartRunsDetection(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		h, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err != nil {
			t.Fatal(err)
		}
		for kind, csv := range map[string]string{
			"staff":    "staff_id,account,name,department,role,address\nS1,u1,王芳,心内科,nurse,东城区和平里1号1-101\nS2,u2,李强,骨科,doctor,西城区建设路2号2-202\nS3,u3,王刚,骨科,doctor,东城区和平里1号1-101\n",
			"patients": "patient_id,name,address,vip,deceased_on,staff_id\nP1,王伟,东城区和平里1号1-101,false,,\nP3,李强,西城区建设路2号2-202,false,,S2\n",
		} {
			if _, err := a.Reference.Import(ctx, actor.CLI(), h.ID, kind, strings.NewReader(csv)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC()
		view := func(id, account, patient string) events.Event {
			return events.Event{ID: id, Time: at, System: "EMR", Account: account, Action: events.ActionView, PatientID: patient,
				RecordType: "emr", SourceIP: "10.1.1.1", Terminal: "WS-1"}
		}
		alertOf := func(rule, account string) bool {
			as, _, err := a.Alerts.List(ctx, actor.CLI(), alert.Filter{Source: "monitor", Kind: rule, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, al := range as {
				if al.Account == account && al.Rule == rule {
					return true
				}
			}
			return false
		}
		waitFor := func(rule, account string) {
			t.Helper()
			for deadline := time.Now().Add(30 * time.Second); !alertOf(rule, account); {
				if time.Now().After(deadline) {
					t.Fatalf("no %s alert of %s from the live detection", rule, account)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if _, err := a.Events.Append(ctx, h.ID, []events.Event{view("e1", "u1", "P1")}); err != nil {
			t.Fatal(err)
		}
		waitFor("family-access", "u1")

		// The hospital disables the family rule; once the process has loaded the rules
		// again, a family access is no alert, while the self-access after it is.
		reloads := a.ruleReloads.Load()
		if _, err := a.Rules.SetEnabled(ctx, actor.Actor{Username: "sec", Role: "security_officer", OrgID: h.ID, OrgPath: h.Path},
			h.ID, "family-access", false); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); a.ruleReloads.Load() == reloads; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the process did not load the changed rules")
			}
		}
		if _, err := a.Events.Append(ctx, h.ID, []events.Event{view("e2", "u3", "P1"), view("e3", "u2", "P3")}); err != nil {
			t.Fatal(err)
		}
		waitFor("self-access", "u2")
		if alertOf("family-access", "u3") {
			t.Error("a disabled rule fired")
		}
	})
}
