package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The alert kinds the sweep raises (source "incidents").
const (
	AlertReportWarning = "incident.report_warning" // the reporting deadline is near
	AlertReportOverdue = "incident.report_overdue" // it passed unreported
	AlertPassOnWarning = "incident.pass_on_warning"
	AlertPassOnOverdue = "incident.pass_on_overdue"
)

// AlertKinds lists the alert kinds the sweep raises.
var AlertKinds = []string{AlertReportWarning, AlertReportOverdue, AlertPassOnWarning, AlertPassOnOverdue}

// AlertSource is the alerts' source module.
const AlertSource = "incidents"

// SweepResult counts what a sweep raised.
type SweepResult struct {
	Warned    int `json:"warned"`
	Escalated int `json:"escalated"`
}

// Sweep checks the running clocks of every incident at now: a clock within its regime's
// warning lead of its deadline raises a warning alert, one past its deadline an
// escalation alert (both critical), each once per deadline — a repeated sweep raises
// nothing new, a deadline that moves (SetLevel) is warned of afresh. A clock found past
// its deadline unwarned is only escalated. Each alert is on the incident's timeline and
// in the trail, as the platform's own work.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	type clock struct {
		id     int64
		stage  string
		due    time.Time
		regime string
		warned bool
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, regime, report_due, reported_at, report_warned_at, report_escalated_at,
		pass_on_due, passed_on_at, pass_on_warned_at, pass_on_escalated_at FROM incidents
		WHERE status <> 'closed' AND ((report_due IS NOT NULL AND reported_at IS NULL AND report_escalated_at IS NULL)
		OR (pass_on_due IS NOT NULL AND passed_on_at IS NULL AND pass_on_escalated_at IS NULL)) ORDER BY id`)
	if err != nil {
		return SweepResult{}, fmt.Errorf("incident: sweep: %w", err)
	}
	var clocks []clock
	for rows.Next() {
		var id int64
		var regime string
		var rDue, rAt, rWarn, rEsc, pDue, pAt, pWarn, pEsc store.Time
		if err := rows.Scan(&id, &regime, &rDue, &rAt, &rWarn, &rEsc, &pDue, &pAt, &pWarn, &pEsc); err != nil {
			rows.Close()
			return SweepResult{}, fmt.Errorf("incident: sweep: %w", err)
		}
		if rDue.Valid && !rAt.Valid && !rEsc.Valid {
			clocks = append(clocks, clock{id, StageReport, rDue.Time, regime, rWarn.Valid})
		}
		if pDue.Valid && !pAt.Valid && !pEsc.Valid {
			clocks = append(clocks, clock{id, StagePassOn, pDue.Time, regime, pWarn.Valid})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return SweepResult{}, fmt.Errorf("incident: sweep: %w", err)
	}
	var res SweepResult
	for _, c := range clocks {
		escalate := !now.Before(c.due)
		warn := !escalate && !c.warned && !now.Before(c.due.Add(-s.clocks.WarnBefore(c.regime)))
		if !escalate && !warn {
			continue
		}
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			in, err := s.get(ctx, tx, actor.System(), c.id)
			if err != nil {
				return err
			}
			// Read again in the transaction: a report may have stopped the clock since.
			due, stopped := in.ReportDue, in.ReportedAt
			if c.stage == StagePassOn {
				due, stopped = in.PassOnDue, in.PassedOnAt
			}
			if due == nil || !due.Equal(c.due) || stopped != nil {
				return nil
			}
			return s.raiseClock(ctx, tx, in, c.stage, c.due, escalate, now)
		})
		if err != nil {
			return res, err
		}
		if escalate {
			res.Escalated++
		} else {
			res.Warned++
		}
	}
	return res, nil
}

// raiseClock raises the warning (escalate false) or escalation of in's clock of stage,
// due at due, and records it.
func (s *Service) raiseClock(ctx context.Context, tx *store.Tx, in Incident, stage string, due time.Time, escalate bool, now time.Time) error {
	kind, col := AlertReportWarning, "report_warned_at"
	switch {
	case stage == StageReport && escalate:
		kind, col = AlertReportOverdue, "report_escalated_at"
	case stage == StagePassOn && escalate:
		kind, col = AlertPassOnOverdue, "pass_on_escalated_at"
	case stage == StagePassOn:
		kind, col = AlertPassOnWarning, "pass_on_warned_at"
	}
	dueText := due.Format(time.RFC3339)
	set, args := col+` = ?`, []any{now}
	if escalate { // an escalation found unwarned is not warned of afterwards
		warned := map[string]string{StageReport: "report_warned_at", StagePassOn: "pass_on_warned_at"}[stage]
		set, args = set+`, `+warned+` = COALESCE(`+warned+`, ?)`, append(args, now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET `+set+` WHERE id = ?`, append(args, in.ID)...); err != nil {
		return fmt.Errorf("incident: sweep: %w", err)
	}
	title := i18n.M("incident.alert."+kind, in.Title, dueText)
	if s.alerts != nil {
		if _, _, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: in.OrgID, Source: AlertSource, Kind: kind,
			Severity: alert.SeverityCritical, Title: title, Subject: fmt.Sprintf("incident %d", in.ID),
			Evidence: map[string]any{"incident_id": in.ID, "level": in.Level, "regime": in.Regime,
				"operator_type": in.OperatorType, "due": due, "stage": stage},
			DedupKey: fmt.Sprintf("incident:%d:%s:%s", in.ID, kind, dueText), At: now}); err != nil {
			return fmt.Errorf("incident: raise %s: %w", kind, err)
		}
	}
	word := "warning: the %s deadline %s is near"
	if escalate {
		word = "escalated: the %s deadline %s passed unreported"
	}
	txt := fmt.Sprintf(word, stage, dueText)
	msg := i18n.M("incident.timeline."+kind, dueText)
	if err := entry(ctx, tx, in.ID, now, actor.System().Username, EntryClock, txt, &msg); err != nil {
		return err
	}
	_, err := s.trail.Append(ctx, tx, actor.System(), trail.Event{Action: kind, ObjectType: "incident", ObjectID: itoa(in.ID),
		OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): %s", in.ID, in.Title, txt),
		Msg: trail.Msg("trail.summary."+kind, in.ID, in.Title, dueText)})
	return err
}
