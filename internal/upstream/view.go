package upstream

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// RemoteApp is an app a hospital reported, as the region shows it.
type RemoteApp struct {
	ID          int64      `json:"id"`
	OrgID       int64      `json:"org_id"`
	Hospital    string     `json:"hospital"`
	RemoteID    int64      `json:"remote_id"` // the app's id at the hospital
	Name        string     `json:"name"`
	Platform    string     `json:"platform"`
	Package     string     `json:"package"`
	Operator    string     `json:"operator"`
	Status      string     `json:"status"`
	Score       *int       `json:"score"`
	Grade       string     `json:"grade"`
	RectifyBy   *time.Time `json:"rectify_by,omitempty"`
	EvaluatedAt *time.Time `json:"evaluated_at,omitempty"`
	// ReportedAt is when the hospital generated the report; ReceivedAt when the region
	// received the hospital's last report.
	ReportedAt time.Time `json:"reported_at"`
	ReceivedAt time.Time `json:"received_at"`
	// findings and codes are the stored JSON, read by App.
	findings string
	codes    string
}

// RemoteAppDetail is a reported app with its open findings, codes and incidents.
type RemoteAppDetail struct {
	RemoteApp
	Findings  []Finding        `json:"findings"`
	Codes     []Code           `json:"codes"`
	Incidents []StoredIncident `json:"incidents"`
}

// StoredIncident is an incident as the region keeps it.
type StoredIncident struct {
	Key        string    `json:"key"`
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity"`
	Subject    string    `json:"subject"`
	Detail     string    `json:"detail"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
}

const remoteColumns = `u.id, u.org_id, o.name, u.remote_id, u.name, u.platform, u.package, u.operator, u.status, u.score, u.grade,
	u.rectify_by, u.evaluated_at, u.reported_at, r.received_at, u.findings, u.codes`

const remoteFrom = ` FROM upstream_apps u JOIN orgs o ON o.id = u.org_id JOIN upstream_reports r ON r.org_id = u.org_id`

func scanRemote(sc interface{ Scan(...any) error }) (RemoteApp, error) {
	var a RemoteApp
	var score sql.NullInt64
	var rectify, evaluated, reported, received store.Time
	if err := sc.Scan(&a.ID, &a.OrgID, &a.Hospital, &a.RemoteID, &a.Name, &a.Platform, &a.Package, &a.Operator, &a.Status, &score,
		&a.Grade, &rectify, &evaluated, &reported, &received, &a.findings, &a.codes); err != nil {
		return RemoteApp{}, err
	}
	if score.Valid {
		v := int(score.Int64)
		a.Score = &v
	}
	a.RectifyBy, a.EvaluatedAt, a.ReportedAt, a.ReceivedAt = rectify.Ptr(), evaluated.Ptr(), reported.Time, received.Time
	return a, nil
}

// Query narrows Apps.
type Query struct {
	OrgID  int64  // one hospital node (0: every node a sees)
	Status string // pending, admitted, rejected, evicted
	Grade  string // A, B, C
}

// Apps lists the reported apps of the hospitals a sees, by hospital and name: a
// hospital's own users see only its own.
func (r *Region) Apps(ctx context.Context, a actor.Actor, q Query) ([]RemoteApp, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := cond, []any{arg}
	if q.OrgID != 0 {
		where, args = where+" AND u.org_id = ?", append(args, q.OrgID)
	}
	if q.Status != "" {
		where, args = where+" AND u.status = ?", append(args, q.Status)
	}
	if q.Grade != "" {
		where, args = where+" AND u.grade = ?", append(args, q.Grade)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT `+remoteColumns+remoteFrom+` WHERE `+where+` ORDER BY o.name, u.name, u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("upstream: apps: %w", err)
	}
	defer rows.Close()
	out := []RemoteApp{}
	for rows.Next() {
		ap, err := scanRemote(rows)
		if err != nil {
			return nil, fmt.Errorf("upstream: apps: %w", err)
		}
		out = append(out, ap)
	}
	return out, rows.Err()
}

// App returns reported app id with its findings, codes and incidents; another
// hospital's app is not found.
func (r *Region) App(ctx context.Context, a actor.Actor, id int64) (RemoteAppDetail, error) {
	cond, arg := a.SeesSQL("o.path")
	ra, err := scanRemote(r.db.QueryRowContext(ctx, `SELECT `+remoteColumns+remoteFrom+` WHERE u.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return RemoteAppDetail{}, problem.NotFound("reported app")
	}
	if err != nil {
		return RemoteAppDetail{}, fmt.Errorf("upstream: app %d: %w", id, err)
	}
	ap := RemoteAppDetail{RemoteApp: ra}
	ap.Findings, ap.Codes, ap.Incidents = []Finding{}, []Code{}, []StoredIncident{}
	if err := json.Unmarshal([]byte(ap.findings), &ap.Findings); err != nil {
		return RemoteAppDetail{}, fmt.Errorf("upstream: app %d findings: %w", id, err)
	}
	if err := json.Unmarshal([]byte(ap.codes), &ap.Codes); err != nil {
		return RemoteAppDetail{}, fmt.Errorf("upstream: app %d codes: %w", id, err)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT remote_key, kind, severity, subject, detail, occurred_at, received_at
		FROM upstream_incidents WHERE org_id = ? AND remote_app_id = ? ORDER BY occurred_at, id`, ap.OrgID, ap.RemoteID)
	if err != nil {
		return RemoteAppDetail{}, fmt.Errorf("upstream: incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var in StoredIncident
		var at, rec store.Time
		if err := rows.Scan(&in.Key, &in.Kind, &in.Severity, &in.Subject, &in.Detail, &at, &rec); err != nil {
			return RemoteAppDetail{}, fmt.Errorf("upstream: incidents: %w", err)
		}
		in.At, in.ReceivedAt = at.Time, rec.Time
		ap.Incidents = append(ap.Incidents, in)
	}
	return ap, rows.Err()
}
