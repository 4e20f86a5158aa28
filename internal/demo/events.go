package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/simulate"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/reference"
)

// The audit events of the demo: the first hospital becomes the simulator's hospital
// (staff, patients, encounters imported as reference data) with two weeks of its HIS,
// EMR, LIS, PACS and internet-hospital events ending now, misuse of every kind injected
// (package simulate).

// EventsSeed is the simulator's seed of the demo hospital: the same hospital every time.
const EventsSeed = 20261207

// Size of the demo hospital: the simulator's smallest staff and a few hundred patients
// more than its minimum keep a demo start within a few seconds while every kind of
// misuse is injected.
const (
	eventsStaff    = 120
	eventsPatients = 800
	eventsDays     = 14
)

// appendBatch is how many events one Append stores.
const appendBatch = 10_000

// seedEvents gives the first hospital the simulated hospital's reference data and its
// last two weeks of events, unless it has events (or, for the reference data, staff)
// already; without the events and reference services it does nothing. now is the end
// of the two weeks: events the simulator places after it (later today) are left out.
func seedEvents(ctx context.Context, d Deps, now time.Time) error {
	if d.Events == nil || d.Reference == nil {
		return nil
	}
	h1, officer, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	sys := actor.System()
	have, err := d.Events.List(ctx, sys, events.Filter{OrgPath: h1.Path, Limit: 1})
	if err != nil {
		return fmt.Errorf("demo: events: %w", err)
	}
	if len(have) > 0 {
		return nil
	}
	// Day 13 of the window is today (Asia/Shanghai), so the stream runs up to now.
	today := now.In(simulate.Shanghai)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, simulate.Shanghai).AddDate(0, 0, 1-eventsDays)
	sim, err := simulate.Generate(simulate.Config{Seed: EventsSeed, Days: eventsDays, Staff: eventsStaff,
		Patients: eventsPatients, Start: start})
	if err != nil {
		return fmt.Errorf("demo: simulate: %w", err)
	}
	sum, err := d.Reference.Summary(ctx, sys, h1.ID)
	if err != nil {
		return fmt.Errorf("demo: reference: %w", err)
	}
	if sum.Staff == 0 {
		if err := importReference(ctx, d.Reference, officer, h1.ID, sim); err != nil {
			return err
		}
	}
	evs := sim.Events
	for i, e := range evs {
		if e.Time.After(now) {
			evs = evs[:i] // in time order: the rest is later still
			break
		}
	}
	for len(evs) > 0 {
		n := min(len(evs), appendBatch)
		if _, err := d.Events.Append(ctx, h1.ID, evs[:n]); err != nil {
			return fmt.Errorf("demo: events: %w", err)
		}
		evs = evs[n:]
	}
	if len(sim.Events) > 0 {
		return detectDemoEvents(ctx, d, h1, sim.Events[0].Time, now)
	}
	return nil
}

// detectDemoEvents runs the detection over the events the demo just stored
// (organisation h1, event times in [from, to]) with the hospital's rules, so that the
// demo opens with its monitoring alerts; without Rules or Alerts it does nothing.
func detectDemoEvents(ctx context.Context, d Deps, h1 org.Node, from, to time.Time) error {
	if d.Rules == nil || d.Alerts == nil {
		return nil
	}
	rules, err := d.Rules(ctx, h1.ID)
	if err != nil {
		return fmt.Errorf("demo: rules: %w", err)
	}
	eng, err := detect.NewEngine(rules, d.DetectEnv)
	if err != nil {
		return fmt.Errorf("demo: detection: %w", err)
	}
	if _, err := detect.Run(ctx, d.DB, d.Events, d.Alerts, eng, detect.Span{OrgID: h1.ID}); err != nil {
		return fmt.Errorf("demo: detection: %w", err)
	}
	return nil
}

// investigationTitle is the title of the demo's investigation case.
const investigationTitle = "病历访问调查：家属病历查阅"

// seedInvestigation opens the demo's investigation: the first hospital's open
// family-access alert (a staff member who read a relative's record) in a case being
// investigated by the security officer, with a note, unless the demo has it already.
func seedInvestigation(ctx context.Context, d Deps) error {
	if d.Alerts == nil || d.Rules == nil {
		return nil
	}
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	cases, _, err := d.Alerts.Cases(ctx, actor.System(), alert.CaseQuery{Limit: 200})
	if err != nil {
		return err
	}
	for _, c := range cases {
		if c.Title == investigationTitle {
			return nil
		}
	}
	as, _, err := d.Alerts.List(ctx, a, alert.Filter{Source: "monitor", Kind: "family-access", Status: alert.StatusOpen, Limit: 1})
	if err != nil || len(as) == 0 {
		return err
	}
	c, err := d.Alerts.CreateCase(ctx, a, alert.CaseInput{OrgID: h1.ID, Title: investigationTitle,
		AlertIDs: []int64{as[0].ID}, Assignee: "secofficer"})
	if err != nil {
		return fmt.Errorf("demo: investigation: %w", err)
	}
	if _, err := d.Alerts.SetCaseStatus(ctx, a, c.ID, alert.Change{Status: alert.StatusInvestigating}); err != nil {
		return fmt.Errorf("demo: investigation: %w", err)
	}
	note := "账号 " + as[0].Account + " 查阅了同姓同住址患者的病历，无诊疗关系；已调取该账号两周内全部操作（监测 → 账号调查），约谈安排中。" +
		" / Account " + as[0].Account + " read the record of a patient with the same surname and address, with no care relationship;" +
		" its two weeks of activity are under review (Monitoring → account investigation); an interview is being arranged."
	if _, err := d.Alerts.CommentCase(ctx, a, c.ID, note); err != nil {
		return fmt.Errorf("demo: investigation: %w", err)
	}
	return nil
}

// importReference imports the simulated hospital's staff, patients and encounters for
// organisation orgID through reference.Import, as the CSV files an operator would.
func importReference(ctx context.Context, ref *reference.Service, a actor.Actor, orgID int64, sim *simulate.Result) error {
	files := []struct {
		kind string
		rows func(add func(...string))
	}{
		{reference.KindStaff, func(add func(...string)) {
			for _, s := range sim.Staff {
				add(s.StaffID, s.Account, s.Name, s.Department, s.Role, s.Address)
			}
		}},
		{reference.KindPatients, func(add func(...string)) {
			for _, p := range sim.Patients {
				add(p.PatientID, p.Name, p.Address, strconv.FormatBool(p.VIP), p.DeceasedOn, p.StaffID)
			}
		}},
		{reference.KindEncounters, func(add func(...string)) {
			for _, e := range sim.Encounters {
				end := ""
				if e.End != nil {
					end = e.End.Format(time.RFC3339)
				}
				add(e.PatientID, e.StaffID, e.Department, e.Start.Format(time.RFC3339), end)
			}
		}},
	}
	for _, f := range files {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write(reference.Columns[f.kind]); err != nil {
			return fmt.Errorf("demo: reference %s: %w", f.kind, err)
		}
		var werr error
		f.rows(func(v ...string) {
			if werr == nil {
				werr = w.Write(v)
			}
		})
		w.Flush()
		if werr == nil {
			werr = w.Error()
		}
		if werr != nil {
			return fmt.Errorf("demo: reference %s: %w", f.kind, werr)
		}
		rep, err := ref.Import(ctx, a, orgID, f.kind, &buf)
		if err != nil {
			return fmt.Errorf("demo: reference %s: %w", f.kind, err)
		}
		if rep.ErrorCount > 0 {
			return fmt.Errorf("demo: reference %s: %d rows rejected", f.kind, rep.ErrorCount)
		}
	}
	return nil
}
