package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

const columns = `i.id, i.org_id, o.name, i.title, i.description, i.category, i.level, i.status, i.regime, i.operator_type,
	i.detected_at, i.occurred_at, i.report_due, i.reported_at, i.pass_on_due, i.passed_on_at, i.patients_affected,
	i.data_involved, i.source_module, i.source_id, i.created_by, i.created_at, i.updated_at`

func scan(sc interface{ Scan(...any) error }, now time.Time) (Incident, error) {
	var in Incident
	var detected, occurred, due, reported, passDue, passed, created, updated store.Time
	var data string
	if err := sc.Scan(&in.ID, &in.OrgID, &in.OrgName, &in.Title, &in.Description, &in.Category, &in.Level, &in.Status,
		&in.Regime, &in.OperatorType, &detected, &occurred, &due, &reported, &passDue, &passed, &in.PatientsAffected,
		&data, &in.SourceModule, &in.SourceID, &in.CreatedBy, &created, &updated); err != nil {
		return Incident{}, err
	}
	in.DetectedAt, in.OccurredAt, in.ReportDue, in.ReportedAt = detected.Time, occurred.Ptr(), due.Ptr(), reported.Ptr()
	in.PassOnDue, in.PassedOnAt, in.CreatedAt, in.UpdatedAt = passDue.Ptr(), passed.Ptr(), created.Time, updated.Time
	in.DataInvolved = []string{}
	if err := json.Unmarshal([]byte(data), &in.DataInvolved); err != nil {
		return Incident{}, fmt.Errorf("data_involved: %w", err)
	}
	in.Overdue = overdue(in, now)
	in.AssetIDs = []int64{}
	return in, nil
}

// overdue reports whether a clock of in passed its deadline unstopped at now.
func overdue(in Incident, now time.Time) bool {
	return (in.ReportDue != nil && in.ReportedAt == nil && !now.Before(*in.ReportDue)) ||
		(in.PassOnDue != nil && in.PassedOnAt == nil && !now.Before(*in.PassOnDue))
}

// get reads incident id as a sees it (another hospital's incident is not found), with
// its asset ids but without its timeline and other parts.
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Incident, error) {
	cond, arg := a.SeesSQL("o.path")
	in, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM incidents i JOIN orgs o ON o.id = i.org_id
		WHERE i.id = ? AND `+cond, id, arg), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, problem.NotFound("incident")
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident: %d: %w", id, err)
	}
	if in.AssetIDs, err = assets(ctx, q, id); err != nil {
		return Incident{}, err
	}
	return in, nil
}

func assets(ctx context.Context, q store.Querier, id int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT asset_id FROM incident_assets WHERE incident_id = ? ORDER BY asset_id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: assets: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("incident: assets: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Incident returns incident id with its timeline, reports, attachments (metadata),
// review and tasks.
func (s *Service) Incident(ctx context.Context, a actor.Actor, id int64) (Incident, error) {
	in, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Incident{}, err
	}
	if in.Timeline, err = timeline(ctx, s.db, id); err != nil {
		return Incident{}, err
	}
	if in.Reports, err = reports(ctx, s.db, id); err != nil {
		return Incident{}, err
	}
	if in.Attachments, err = attachments(ctx, s.db, id); err != nil {
		return Incident{}, err
	}
	if in.Review, err = review(ctx, s.db, id); err != nil {
		return Incident{}, err
	}
	if in.Tasks, err = tasks(ctx, s.db, id); err != nil {
		return Incident{}, err
	}
	return in, nil
}

func reports(ctx context.Context, q store.Querier, id int64) ([]Report, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, stage, to_whom, at, reference, text, recorded_by, recorded_at
		FROM incident_reports WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		var r Report
		var at, rec store.Time
		if err := rows.Scan(&r.ID, &r.Stage, &r.To, &at, &r.Reference, &r.Text, &r.RecordedBy, &rec); err != nil {
			return nil, fmt.Errorf("incident: reports: %w", err)
		}
		r.At, r.RecordedAt = at.Time, rec.Time
		out = append(out, r)
	}
	return out, rows.Err()
}

// Query narrows Incidents; empty fields match everything.
type Query struct {
	Status   string `json:"status"`
	Level    string `json:"level"`
	Category string `json:"category"`
	// Overdue keeps the incidents a clock of which passed its deadline unreported.
	Overdue bool `json:"overdue"`
	// SourceModule and SourceID keep the incidents opened from that record.
	SourceModule string `json:"source_module"`
	SourceID     string `json:"source_id"`
}

// Incidents lists the incidents a sees, newest detection first, without their timelines
// and other parts.
func (s *Service) Incidents(ctx context.Context, a actor.Actor, q Query) ([]Incident, error) {
	if q.Status != "" && !slices.Contains(Statuses, q.Status) {
		return nil, problem.OneOf("status", Statuses...)
	}
	if q.Level != "" && !ValidLevel(q.Level) {
		return nil, problem.OneOf("level", LevelIDs()...)
	}
	if q.Category != "" && !ValidCategory(q.Category) {
		return nil, problem.OneOf("category", CategoryIDs()...)
	}
	now := s.now()
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	for col, v := range map[string]string{"i.status": q.Status, "i.level": q.Level, "i.category": q.Category,
		"i.source_module": q.SourceModule, "i.source_id": q.SourceID} {
		if v != "" {
			where, args = append(where, col+" = ?"), append(args, v)
		}
	}
	if q.Overdue {
		where = append(where, `((i.report_due IS NOT NULL AND i.reported_at IS NULL AND i.report_due <= ?)
			OR (i.pass_on_due IS NOT NULL AND i.passed_on_at IS NULL AND i.pass_on_due <= ?))`)
		args = append(args, now, now)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM incidents i JOIN orgs o ON o.id = i.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY i.detected_at DESC, i.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident: incidents: %w", err)
	}
	out := []Incident{}
	for rows.Next() {
		in, err := scan(rows, now)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident: incidents: %w", err)
		}
		out = append(out, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: incidents: %w", err)
	}
	for i := range out {
		if out[i].AssetIDs, err = assets(ctx, s.db, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IncidentsOf lists the incidents a sees that were opened from record id of module (an
// alert, SourceAlert, or a case, SourceCase): the link back from the source.
func (s *Service) IncidentsOf(ctx context.Context, a actor.Actor, module, id string) ([]Incident, error) {
	if module == "" || id == "" {
		return []Incident{}, nil
	}
	return s.Incidents(ctx, a, Query{SourceModule: module, SourceID: id})
}
