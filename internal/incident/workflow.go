package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// futureSlack is how far ahead of the server's clock a time given by a person may be
// (their clock may run a little fast).
const futureSlack = 5 * time.Minute

var (
	moduleName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	sourceID   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
)

// Open opens an incident at in.OrgID (a hospital or a department below one), starting
// its reporting clock from in.DetectedAt.
func (s *Service) Open(ctx context.Context, a actor.Actor, in Input) (Incident, error) {
	d, err := checkDetails(in.Details)
	if err != nil {
		return Incident{}, err
	}
	in.Details = d
	if !ValidLevel(in.Level) {
		return Incident{}, problem.OneOf("level", LevelIDs()...)
	}
	if in.OperatorType == "" {
		in.OperatorType = s.opt.OperatorType
	}
	if !slices.Contains(OperatorTypes, in.OperatorType) {
		return Incident{}, problem.OneOf("operator_type", OperatorTypes...)
	}
	if in.Regime == "" {
		in.Regime = s.opt.Regime
	}
	if _, ok := s.clocks.Regimes[in.Regime]; !ok {
		return Incident{}, problem.OneOf("regime", s.clocks.RegimeNames()...)
	}
	now := s.now()
	if in.DetectedAt.IsZero() {
		in.DetectedAt = now
	}
	in.DetectedAt = in.DetectedAt.UTC().Truncate(time.Microsecond)
	if in.DetectedAt.After(now.Add(futureSlack)) {
		return Incident{}, problem.Invalid("detected_at", "is in the future").WithMsg("incident.error.future")
	}
	if in.OccurredAt != nil && in.OccurredAt.After(in.DetectedAt) {
		return Incident{}, problem.Invalid("occurred_at", "is after detected_at").WithMsg("incident.error.occurred_after")
	}
	if (in.SourceModule == "") != (in.SourceID == "") {
		return Incident{}, problem.Invalid("source_id", "a source names both its module and its id").WithMsg("incident.error.source")
	}
	if in.SourceModule != "" && (!moduleName.MatchString(in.SourceModule) || !sourceID.MatchString(in.SourceID)) {
		return Incident{}, problem.Invalid("source_id", "is not a module and record id").WithMsg("incident.error.source")
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
			return problem.Invalid("org_id", "an incident belongs to a hospital or a department").WithMsg("incident.error.not_hospital")
		}
		if err := s.checkSource(ctx, tx, a, o, in.SourceModule, in.SourceID); err != nil {
			return err
		}
		if err := checkAssets(ctx, tx, o, in.AssetIDs); err != nil {
			return err
		}
		var due *time.Time
		if d, ok := s.clocks.ReportWithin(in.Regime, in.OperatorType, in.Level); ok {
			t := in.DetectedAt.Add(d)
			due = &t
		}
		data, _ := json.Marshal(in.DataInvolved)
		if err := tx.QueryRowContext(ctx, `INSERT INTO incidents (org_id, title, description, category, level, status, regime,
			operator_type, detected_at, occurred_at, patients_affected, data_involved, source_module, source_id, report_due,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.ID, in.Title, in.Description, in.Category, in.Level, in.Regime, in.OperatorType, in.DetectedAt, in.OccurredAt,
			in.PatientsAffected, string(data), in.SourceModule, in.SourceID, due, a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("incident: open: %w", err)
		}
		if err := storeAssets(ctx, tx, id, in.AssetIDs); err != nil {
			return err
		}
		txt := fmt.Sprintf("opened: %s, level %s", in.Category, in.Level)
		msg := i18n.M("incident.timeline.created", i18n.M("incident.category."+in.Category), i18n.M("incident.level."+in.Level))
		if in.SourceModule != "" {
			txt += fmt.Sprintf(", from %s %s", in.SourceModule, in.SourceID)
		}
		if err := entry(ctx, tx, id, now, a.Username, EntryCreated, txt, &msg); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.open", ObjectType: "incident", ObjectID: itoa(id), OrgID: o.ID,
			Summary: fmt.Sprintf("incident %d opened: %s (%s, level %s)", id, in.Title, in.Category, in.Level),
			Msg: trail.Msg("trail.summary.incident.open", id, in.Title, i18n.M("incident.category."+in.Category),
				i18n.M("incident.level."+in.Level)), After: in})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Incident(ctx, a, id)
}

// checkSource checks that the alert or case an incident is opened from exists and is
// the incident's organisation's or below (so that whoever sees the incident sees it).
// Other modules' records are taken as named.
func (s *Service) checkSource(ctx context.Context, tx *store.Tx, a actor.Actor, o org.Node, module, id string) error {
	table := map[string]string{SourceAlert: "alerts", SourceCase: "alert_cases"}[module]
	if table == "" {
		return nil
	}
	var path string
	cond, arg := a.SeesSQL("o.path")
	err := tx.QueryRowContext(ctx, `SELECT o.path FROM `+table+` x JOIN orgs o ON o.id = x.org_id
		WHERE CAST(x.id AS TEXT) = ? AND `+cond, id, arg).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !o.Contains(path)) {
		return problem.NotFound(strings.ReplaceAll(module, "_", " "))
	}
	if err != nil {
		return fmt.Errorf("incident: source: %w", err)
	}
	return nil
}

// checkAssets checks that every asset exists and belongs to o or below.
func checkAssets(ctx context.Context, tx *store.Tx, o org.Node, ids []int64) error {
	for _, id := range ids {
		var path string
		err := tx.QueryRowContext(ctx, `SELECT o.path FROM assets x JOIN orgs o ON o.id = x.org_id WHERE x.id = ?`, id).Scan(&path)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !o.Contains(path)) {
			return problem.Invalid("asset_ids", "asset %d is not an asset of this hospital", id).WithMsg("incident.error.asset_not_here", id)
		}
		if err != nil {
			return fmt.Errorf("incident: asset: %w", err)
		}
	}
	return nil
}

func storeAssets(ctx context.Context, tx *store.Tx, id int64, assets []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM incident_assets WHERE incident_id = ?`, id); err != nil {
		return fmt.Errorf("incident: assets: %w", err)
	}
	for _, as := range assets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_assets (incident_id, asset_id) VALUES (?, ?)`, id, as); err != nil {
			return fmt.Errorf("incident: assets: %w", err)
		}
	}
	return nil
}

// Update replaces the description of incident id (title, description, category, time of
// occurrence, assets, patients and data involved). A closed incident is not edited.
func (s *Service) Update(ctx context.Context, a actor.Actor, id int64, d Details) (Incident, error) {
	d, err := checkDetails(d)
	if err != nil {
		return Incident{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Status == StatusClosed {
			return problem.Conflict("the incident is closed").WithMsg("incident.error.closed")
		}
		if d.OccurredAt != nil && d.OccurredAt.After(in.DetectedAt) {
			return problem.Invalid("occurred_at", "is after detected_at").WithMsg("incident.error.occurred_after")
		}
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if err := checkAssets(ctx, tx, o, d.AssetIDs); err != nil {
			return err
		}
		now := s.now()
		data, _ := json.Marshal(d.DataInvolved)
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET title = ?, description = ?, category = ?, occurred_at = ?,
			patients_affected = ?, data_involved = ?, updated_at = ? WHERE id = ?`, d.Title, d.Description, d.Category,
			d.OccurredAt, d.PatientsAffected, string(data), now, id); err != nil {
			return fmt.Errorf("incident: update: %w", err)
		}
		if err := storeAssets(ctx, tx, id, d.AssetIDs); err != nil {
			return err
		}
		msg := i18n.M("incident.timeline.edit")
		if err := entry(ctx, tx, id, now, a.Username, EntryEdit, "description edited", &msg); err != nil {
			return err
		}
		before := Details{Title: in.Title, Description: in.Description, Category: in.Category, OccurredAt: in.OccurredAt,
			AssetIDs: in.AssetIDs, PatientsAffected: in.PatientsAffected, DataInvolved: in.DataInvolved}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.update", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s) edited", id, d.Title),
			Msg: trail.Msg("trail.summary.incident.update", id, d.Title), Before: before, After: d})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Incident(ctx, a, id)
}

// SetLevel changes the level of incident id, saying why. The clock that still runs is
// computed again from its start (detection for the report, the report for passing it
// on): a level raised after detection may bring the deadline forward, or past.
func (s *Service) SetLevel(ctx context.Context, a actor.Actor, id int64, level, reason string) (Incident, error) {
	if !ValidLevel(level) {
		return Incident{}, problem.OneOf("level", LevelIDs()...)
	}
	reason, err := text("reason", reason, 2000, true)
	if err != nil {
		return Incident{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Status == StatusClosed {
			return problem.Conflict("the incident is closed").WithMsg("incident.error.closed")
		}
		if in.Level == level {
			return problem.Conflict("the incident is of that level already").WithMsg("incident.error.same_level")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET level = ?, updated_at = ? WHERE id = ?`, level, now, id); err != nil {
			return fmt.Errorf("incident: level: %w", err)
		}
		prev := in.Level
		in.Level = level
		if err := s.recompute(ctx, tx, in); err != nil {
			return err
		}
		msg := i18n.M("incident.timeline.level", i18n.M("incident.level."+prev), i18n.M("incident.level."+level), reason)
		if err := entry(ctx, tx, id, now, a.Username, EntryLevel, fmt.Sprintf("level %s → %s: %s", prev, level, reason), &msg); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.level", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): level %s → %s: %s", id, in.Title, prev, level, reason),
			Msg: trail.Msg("trail.summary.incident.level", id, in.Title, i18n.M("incident.level."+prev),
				i18n.M("incident.level."+level), reason),
			Before: map[string]any{"level": prev}, After: map[string]any{"level": level, "reason": reason}})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Incident(ctx, a, id)
}

// recompute sets the deadlines of in (its level, operator type and regime as they are
// now) for the clocks still running; a deadline that moves is warned of and escalated
// afresh.
func (s *Service) recompute(ctx context.Context, tx *store.Tx, in Incident) error {
	if in.ReportedAt == nil {
		var due *time.Time
		if d, ok := s.clocks.ReportWithin(in.Regime, in.OperatorType, in.Level); ok {
			t := in.DetectedAt.Add(d)
			due = &t
		}
		if !sameTime(due, in.ReportDue) {
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET report_due = ?, report_warned_at = NULL,
				report_escalated_at = NULL WHERE id = ?`, due, in.ID); err != nil {
				return fmt.Errorf("incident: clock: %w", err)
			}
		}
		return nil
	}
	if in.PassedOnAt != nil {
		return nil
	}
	var due *time.Time
	if d, ok := s.clocks.PassOnWithin(in.Regime, in.Level); ok {
		t := in.ReportedAt.Add(d)
		due = &t
	}
	if !sameTime(due, in.PassOnDue) {
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET pass_on_due = ?, pass_on_warned_at = NULL,
			pass_on_escalated_at = NULL WHERE id = ?`, due, in.ID); err != nil {
			return fmt.Errorf("incident: clock: %w", err)
		}
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// SetStatus moves incident id to status (open → contained → resolved → closed; reopen
// before closed), with an optional note. An incident whose reporting clock still runs
// cannot be closed.
func (s *Service) SetStatus(ctx context.Context, a actor.Actor, id int64, status, note string) (Incident, error) {
	if !slices.Contains(Statuses, status) {
		return Incident{}, problem.OneOf("status", Statuses...)
	}
	note, err := text("note", note, 2000, false)
	if err != nil {
		return Incident{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !CanMove(in.Status, status) {
			return problem.Conflict("an incident %s cannot become %s", in.Status, status).
				WithMsg("incident.error.transition", i18n.M("incident.status."+in.Status), i18n.M("incident.status."+status))
		}
		if status == StatusClosed && clockRunning(in) {
			return problem.Conflict("the incident must be reported before it is closed").WithMsg("incident.error.unreported")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?`, status, now, id); err != nil {
			return fmt.Errorf("incident: status: %w", err)
		}
		txt := fmt.Sprintf("%s → %s", in.Status, status)
		if note != "" {
			txt += ": " + note
		}
		msg := i18n.M("incident.timeline.status", i18n.M("incident.status."+in.Status), i18n.M("incident.status."+status), note)
		if err := entry(ctx, tx, id, now, a.Username, EntryStatus, txt, &msg); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.status", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): %s", id, in.Title, txt),
			Msg: trail.Msg("trail.summary.incident.status", id, in.Title, i18n.M("incident.status."+in.Status),
				i18n.M("incident.status."+status), note),
			Before: map[string]any{"status": in.Status}, After: map[string]any{"status": status, "note": note}})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	return s.Incident(ctx, a, id)
}

// clockRunning reports whether a reporting clock of in has not been stopped.
func clockRunning(in Incident) bool {
	return (in.ReportDue != nil && in.ReportedAt == nil) || (in.PassOnDue != nil && in.PassedOnAt == nil)
}

// The stages of a report.
const (
	StageReport   = "report"    // the operator's report to the authority; stops the report clock
	StagePassOn   = "pass_on"   // the report passed on upward; stops the pass-on clock
	StageFollowUp = "follow_up" // any later report (progress, the final summary)
)

// ReportInput is a report made to an authority.
type ReportInput struct {
	// To names the authority (公安机关网安部门, 卫生健康主管部门, HHS …).
	To string `json:"to"`
	// At is when the report was made (zero: now); not before detection, not in the future.
	At time.Time `json:"at"`
	// Reference is the authority's or the hospital's reference of the report.
	Reference string `json:"reference"`
	Text      string `json:"text"`
}

// Report is a recorded report.
type Report struct {
	ID         int64     `json:"id"`
	Stage      string    `json:"stage"`
	To         string    `json:"to"`
	At         time.Time `json:"at"`
	Reference  string    `json:"reference"`
	Text       string    `json:"text"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// RecordReport keeps a report made about incident id as evidence, on the timeline and in
// the trail. The first report stops the reporting clock and, for the levels that must be
// passed on, starts the pass-on clock; the next one, while that clock runs, stops it;
// later ones are follow-ups.
func (s *Service) RecordReport(ctx context.Context, a actor.Actor, id int64, r ReportInput) (Report, error) {
	var err error
	if r.To, err = text("to", r.To, 200, true); err != nil {
		return Report{}, err
	}
	if r.Reference, err = text("reference", r.Reference, 200, false); err != nil {
		return Report{}, err
	}
	if r.Text, err = text("text", r.Text, 10000, false); err != nil {
		return Report{}, err
	}
	var rep Report
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.now()
		at := r.At.UTC().Truncate(time.Microsecond)
		if r.At.IsZero() {
			at = now
		}
		if at.After(now.Add(futureSlack)) {
			return problem.Invalid("at", "is in the future").WithMsg("incident.error.future")
		}
		if at.Before(in.DetectedAt) {
			return problem.Invalid("at", "is before the incident was detected").WithMsg("incident.error.before_detection")
		}
		stage := StageFollowUp
		switch {
		case in.ReportedAt == nil:
			stage = StageReport
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET reported_at = ?, updated_at = ? WHERE id = ?`, at, now, id); err != nil {
				return fmt.Errorf("incident: report: %w", err)
			}
			in.ReportedAt = &at
			if err := s.recompute(ctx, tx, in); err != nil { // starts the pass-on clock
				return err
			}
		case in.PassOnDue != nil && in.PassedOnAt == nil:
			stage = StagePassOn
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET passed_on_at = ?, updated_at = ? WHERE id = ?`, at, now, id); err != nil {
				return fmt.Errorf("incident: report: %w", err)
			}
		default:
			if err := s.touch(ctx, tx, id, now); err != nil {
				return err
			}
		}
		rep = Report{Stage: stage, To: r.To, At: at, Reference: r.Reference, Text: r.Text, RecordedBy: a.Username, RecordedAt: now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO incident_reports (incident_id, stage, to_whom, at, reference, text,
			recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, stage, r.To, at, r.Reference, r.Text,
			a.Username, now).Scan(&rep.ID); err != nil {
			return fmt.Errorf("incident: report: %w", err)
		}
		txt := fmt.Sprintf("%s to %s at %s", stage, r.To, at.Format(time.RFC3339))
		if r.Reference != "" {
			txt += " (" + r.Reference + ")"
		}
		msg := i18n.M("incident.timeline.report."+stage, r.To, at.Format(time.RFC3339), r.Reference)
		if err := entry(ctx, tx, id, at, a.Username, EntryReport, txt, &msg); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.report", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): %s", id, in.Title, txt),
			Msg: trail.Msg("trail.summary.incident.report", id, in.Title, i18n.M("incident.stage."+stage), r.To,
				at.Format(time.RFC3339)), After: rep})
		return err
	})
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}
