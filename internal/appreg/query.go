package appreg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

const appColumns = `a.id, a.org_id, o.name, a.name, a.platform, a.package, a.operator, a.purpose, a.status, a.score, a.grade,
	a.rectify_by, a.created_by, a.created_at, a.updated_at`

func scanApp(sc interface{ Scan(...any) error }) (App, error) {
	var a App
	var score sql.NullInt64
	var rectify, created, updated store.Time
	if err := sc.Scan(&a.ID, &a.OrgID, &a.OrgName, &a.Name, &a.Platform, &a.Package, &a.Operator, &a.Purpose, &a.Status,
		&score, &a.Grade, &rectify, &a.CreatedBy, &created, &updated); err != nil {
		return App{}, err
	}
	if score.Valid {
		v := int(score.Int64)
		a.Score = &v
	}
	a.RectifyBy, a.CreatedAt, a.UpdatedAt = rectify.Ptr(), created.Time, updated.Time
	return a, nil
}

// get reads app id as actor a sees it (another hospital's app is not found), without
// its contacts, channels and versions.
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (App, error) {
	cond, arg := a.SeesSQL("o.path")
	ap, err := scanApp(q.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps a JOIN orgs o ON o.id = a.org_id
		WHERE a.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, problem.NotFound("app")
	}
	if err != nil {
		return App{}, fmt.Errorf("appreg: app %d: %w", id, err)
	}
	return ap, nil
}

// App returns app id with its contacts, channels and versions.
func (s *Service) App(ctx context.Context, a actor.Actor, id int64) (App, error) {
	ap, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return App{}, err
	}
	if err := s.fill(ctx, s.db, &ap); err != nil {
		return App{}, err
	}
	return ap, nil
}

// fill reads the contacts, channels and versions of ap.
func (s *Service) fill(ctx context.Context, q store.Querier, ap *App) error {
	ap.Contacts, ap.Channels, ap.Versions = []Contact{}, []Channel{}, []Version{}
	rows, err := q.QueryContext(ctx, `SELECT role, name, phone, email FROM app_contacts WHERE app_id = ? ORDER BY role, name`, ap.ID)
	if err != nil {
		return fmt.Errorf("appreg: contacts: %w", err)
	}
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.Role, &c.Name, &c.Phone, &c.Email); err != nil {
			rows.Close()
			return fmt.Errorf("appreg: contacts: %w", err)
		}
		ap.Contacts = append(ap.Contacts, c)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT name, url FROM app_channels WHERE app_id = ? ORDER BY name`, ap.ID)
	if err != nil {
		return fmt.Errorf("appreg: channels: %w", err)
	}
	for rows.Next() {
		var c Channel
		if err := rows.Scan(&c.Name, &c.URL); err != nil {
			rows.Close()
			return fmt.Errorf("appreg: channels: %w", err)
		}
		ap.Channels = append(ap.Channels, c)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT version, version_code, sha256, sm3, signers, current, supply_version_id FROM app_versions
		WHERE app_id = ? ORDER BY id`, ap.ID)
	if err != nil {
		return fmt.Errorf("appreg: versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v Version
		var signers string
		if err := rows.Scan(&v.Version, &v.VersionCode, &v.SHA256, &v.SM3, &signers, &v.Current, &v.SupplyVersionID); err != nil {
			return fmt.Errorf("appreg: versions: %w", err)
		}
		v.Signers = []string{}
		if signers != "" {
			v.Signers = strings.Split(signers, ",")
		}
		ap.Versions = append(ap.Versions, v)
	}
	return rows.Err()
}

// Query narrows Apps.
type Query struct {
	Status string
	Grade  string
}

// Apps lists the apps a sees, by hospital and name.
func (s *Service) Apps(ctx context.Context, a actor.Actor, q Query) ([]App, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.Status != "" {
		where, args = append(where, "a.status = ?"), append(args, q.Status)
	}
	if q.Grade != "" {
		where, args = append(where, "a.grade = ?"), append(args, q.Grade)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+appColumns+` FROM apps a JOIN orgs o ON o.id = a.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY o.name, a.name, a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("appreg: apps: %w", err)
	}
	defer rows.Close()
	out := []App{}
	for rows.Next() {
		ap, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("appreg: apps: %w", err)
		}
		out = append(out, ap)
	}
	return out, rows.Err()
}

// Applications lists the applications of app id, newest first.
func (s *Service) Applications(ctx context.Context, a actor.Actor, id int64) ([]Application, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, app_id, kind, status, evidence, submitted_by, submitted_at, decided_by,
		decided_at, comment FROM app_applications WHERE app_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: applications: %w", err)
	}
	defer rows.Close()
	out := []Application{}
	for rows.Next() {
		var ap Application
		var sub, dec store.Time
		if err := rows.Scan(&ap.ID, &ap.AppID, &ap.Kind, &ap.Status, &ap.Evidence, &ap.SubmittedBy, &sub, &ap.DecidedBy, &dec,
			&ap.Comment); err != nil {
			return nil, fmt.Errorf("appreg: applications: %w", err)
		}
		ap.SubmittedAt, ap.DecidedAt = sub.Time, dec.Ptr()
		out = append(out, ap)
	}
	return out, rows.Err()
}

// Code is an issued authorization code.
type Code struct {
	ID        string     `json:"code_id"`
	AppID     int64      `json:"app_id"`
	KID       string     `json:"kid"`
	Alg       string     `json:"alg"`
	Code      string     `json:"code"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    string     `json:"revoke_reason,omitempty"`
}

// Codes lists the codes of app id, newest first.
func (s *Service) Codes(ctx context.Context, a actor.Actor, id int64) ([]Code, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT code_id, app_id, kid, alg, code, issued_at, expires_at, revoked_at, revoke_reason
		FROM app_codes WHERE app_id = ? ORDER BY issued_at DESC, code_id`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: codes: %w", err)
	}
	defer rows.Close()
	out := []Code{}
	for rows.Next() {
		var c Code
		var iss, exp, rev store.Time
		if err := rows.Scan(&c.ID, &c.AppID, &c.KID, &c.Alg, &c.Code, &iss, &exp, &rev, &c.Reason); err != nil {
			return nil, fmt.Errorf("appreg: codes: %w", err)
		}
		c.IssuedAt, c.ExpiresAt, c.RevokedAt = iss.Time, exp.Time, rev.Ptr()
		out = append(out, c)
	}
	return out, rows.Err()
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
