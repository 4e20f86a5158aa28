package appreg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Apply files an application for admission of a new app at hospital in.OrgID: the app
// is pending until a reviewer decides. The same platform and package at the same
// hospital is one app: applying for it again is a conflict (re-admission is Readmit).
func (s *Service) Apply(ctx context.Context, a actor.Actor, in Input) (App, error) {
	in, err := check(in)
	if err != nil {
		return App{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.Kind != org.KindHospital {
			return problem.Invalid("org_id", "an app is filed by a hospital").WithMsg("app.error.not_hospital")
		}
		var exists int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM apps WHERE org_id = ? AND platform = ? AND package = ?`,
			o.ID, in.Platform, in.Package).Scan(&exists)
		if err == nil {
			return problem.Conflict("this hospital has filed that app already (app %d)", exists).WithMsg("app.error.exists", exists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("appreg: apply: %w", err)
		}
		now := s.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO apps (org_id, name, platform, package, operator, purpose, status,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
			o.ID, in.Name, in.Platform, in.Package, in.Operator, in.Purpose, a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("appreg: apply: %w", err)
		}
		if err := s.storeContent(ctx, tx, id, in); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_applications (app_id, kind, status, evidence, submitted_by, submitted_at)
			VALUES (?, 'admission', 'pending', ?, ?, ?)`, id, in.Evidence, a.Username, now); err != nil {
			return fmt.Errorf("appreg: application: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "app.apply", ObjectType: "app", ObjectID: itoa(id), OrgID: o.ID,
			Summary: fmt.Sprintf("%s (%s %s): application for admission", in.Name, in.Platform, in.Package),
			Msg:     trail.Msg("trail.summary.app.apply", in.Name, in.Platform, in.Package), After: in})
		return err
	})
	if err != nil {
		return App{}, err
	}
	return s.App(ctx, a, id)
}

// Readmit files an application for re-admission of an evicted or rejected app, with new
// content and the evidence of hardening; the app is pending again.
func (s *Service) Readmit(ctx context.Context, a actor.Actor, id int64, in Input) (App, error) {
	in, err := check(in)
	if err != nil {
		return App{}, err
	}
	if strings.TrimSpace(in.Evidence) == "" {
		return App{}, problem.Required("evidence")
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if ap.Status != StatusEvicted && ap.Status != StatusRejected {
			return problem.Conflict("only an evicted or rejected app can apply again (it is %s)", ap.Status).WithMsg("app.error.not_readmittable")
		}
		if in.Platform != ap.Platform || in.Package != ap.Package {
			return problem.Invalid("package", "a re-admission is for the same platform and package").WithMsg("app.error.same_package")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE apps SET name = ?, operator = ?, purpose = ?, status = 'pending', updated_at = ?
			WHERE id = ?`, in.Name, in.Operator, in.Purpose, now, id); err != nil {
			return fmt.Errorf("appreg: readmit: %w", err)
		}
		if err := s.storeContent(ctx, tx, id, in); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_applications (app_id, kind, status, evidence, submitted_by, submitted_at)
			VALUES (?, 'readmission', 'pending', ?, ?, ?)`, id, in.Evidence, a.Username, now); err != nil {
			return fmt.Errorf("appreg: application: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "app.readmit", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: application for re-admission", in.Name),
			Msg:     trail.Msg("trail.summary.app.readmit", in.Name), After: in})
		return err
	})
	if err != nil {
		return App{}, err
	}
	return s.App(ctx, a, id)
}

// storeContent replaces the contacts, channels and versions of app id.
func (s *Service) storeContent(ctx context.Context, tx *store.Tx, id int64, in Input) error {
	for _, t := range []string{"app_contacts", "app_channels", "app_versions"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE app_id = ?`, id); err != nil {
			return fmt.Errorf("appreg: %s: %w", t, err)
		}
	}
	for _, c := range in.Contacts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_contacts (app_id, role, name, phone, email) VALUES (?, ?, ?, ?, ?)`,
			id, c.Role, c.Name, c.Phone, c.Email); err != nil {
			return fmt.Errorf("appreg: contact: %w", err)
		}
	}
	for _, c := range in.Channels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_channels (app_id, name, url) VALUES (?, ?, ?)`, id, c.Name, c.URL); err != nil {
			return fmt.Errorf("appreg: channel: %w", err)
		}
	}
	now := s.now()
	for _, v := range in.Versions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_versions (app_id, version, version_code, sha256, sm3, signers, current,
			supply_version_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, v.Version, v.VersionCode, v.SHA256, v.SM3,
			strings.Join(v.Signers, ","), v.Current, v.SupplyVersionID, now); err != nil {
			return fmt.Errorf("appreg: version: %w", err)
		}
	}
	return nil
}

// Decision is a reviewer's decision on the pending application of an app.
type Decision struct {
	Approve bool   `json:"approve"`
	Comment string `json:"comment"`
}

// Review decides the pending application of app id. Approval admits the app, issues its
// authorization code and evaluates it; rejection needs a comment saying why.
func (s *Service) Review(ctx context.Context, a actor.Actor, id int64, d Decision) (App, error) {
	comment, err := text("comment", d.Comment, 2000, !d.Approve)
	if err != nil {
		return App{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if ap.Status != StatusPending {
			return problem.Conflict("the app has no pending application (it is %s)", ap.Status).WithMsg("app.error.not_pending")
		}
		now := s.now()
		status, appStatus, action := "rejected", StatusRejected, "app.reject"
		if d.Approve {
			status, appStatus, action = "approved", StatusAdmitted, "app.approve"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_applications SET status = ?, decided_by = ?, decided_at = ?, comment = ?
			WHERE app_id = ? AND status = 'pending'`, status, a.Username, now, comment, id); err != nil {
			return fmt.Errorf("appreg: review: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE apps SET status = ?, updated_at = ? WHERE id = ?`, appStatus, now, id); err != nil {
			return fmt.Errorf("appreg: review: %w", err)
		}
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: application %s: %s", ap.Name, status, comment),
			Msg:     trail.Msg("trail.summary."+action, ap.Name, comment)}); err != nil {
			return err
		}
		if !d.Approve {
			return nil
		}
		if err := s.issue(ctx, tx, a, ap, "approval"); err != nil {
			return err
		}
		return s.refresh(ctx, tx, a, ap.ID)
	})
	if err != nil {
		return App{}, err
	}
	return s.App(ctx, a, id)
}

// issue signs a new authorization code for ap, revoking the codes it held before (why
// says why: approval, rotation).
func (s *Service) issue(ctx context.Context, tx *store.Tx, a actor.Actor, ap App, why string) error {
	if _, err := s.revoke(ctx, tx, ap.ID, "superseded"); err != nil {
		return err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("appreg: code id: %w", err)
	}
	now := s.now().Truncate(1e9)
	cl := CodeClaims{ID: hex.EncodeToString(b[:]), AppID: ap.ID, HospitalID: ap.OrgID, Hospital: ap.OrgName,
		IssuedAt: now, ExpiresAt: now.Add(s.opt.CodeValidity)}
	code, kid, alg, err := s.codes.Issue(cl)
	if err != nil {
		return fmt.Errorf("appreg: sign the code: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO app_codes (code_id, app_id, kid, alg, code, issued_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, cl.ID, ap.ID, kid, alg, code, cl.IssuedAt, cl.ExpiresAt); err != nil {
		return fmt.Errorf("appreg: store the code: %w", err)
	}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "app.code_issue", ObjectType: "app", ObjectID: itoa(ap.ID), OrgID: ap.OrgID,
		Summary: fmt.Sprintf("%s: authorization code %s issued (%s, %s), valid until %s", ap.Name, cl.ID, why, alg, cl.ExpiresAt.Format("2006-01-02")),
		Msg:     trail.Msg("trail.summary.app.code_issue", ap.Name, cl.ID, cl.ExpiresAt.Format("2006-01-02")),
		After:   map[string]any{"code_id": cl.ID, "kid": kid, "alg": alg, "expires_at": cl.ExpiresAt}})
	return err
}

// revoke revokes every valid code of app id and returns how many.
func (s *Service) revoke(ctx context.Context, tx *store.Tx, id int64, reason string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE app_codes SET revoked_at = ?, revoke_reason = ? WHERE app_id = ? AND revoked_at IS NULL`,
		s.now(), reason, id)
	if err != nil {
		return 0, fmt.Errorf("appreg: revoke: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RotateCode issues a new code to an admitted app and revokes its old one.
func (s *Service) RotateCode(ctx context.Context, a actor.Actor, id int64) (Code, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if ap.Status != StatusAdmitted {
			return problem.Conflict("only an admitted app holds a code (it is %s)", ap.Status).WithMsg("app.error.not_admitted")
		}
		return s.issue(ctx, tx, a, ap, "rotation")
	})
	if err != nil {
		return Code{}, err
	}
	codes, err := s.Codes(ctx, a, id)
	if err != nil || len(codes) == 0 {
		return Code{}, err
	}
	return codes[0], nil
}

// Evict (清出) removes an admitted app: its codes are revoked, an alert is raised for the
// hospital, its registered contacts are mailed and the eviction is escalated to the
// supervising organisation. A reason is required.
func (s *Service) Evict(ctx context.Context, a actor.Actor, id int64, reason string) (App, error) {
	reason, err := text("reason", reason, 2000, true)
	if err != nil {
		return App{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if ap.Status != StatusAdmitted {
			return problem.Conflict("only an admitted app can be evicted (it is %s)", ap.Status).WithMsg("app.error.not_admitted")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE apps SET status = 'evicted', rectify_by = NULL, updated_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("appreg: evict: %w", err)
		}
		n, err := s.revoke(ctx, tx, id, "evicted: "+reason)
		if err != nil {
			return err
		}
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "app.evict", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s evicted (%d codes revoked): %s", ap.Name, n, reason),
			Msg:     trail.Msg("trail.summary.app.evict", ap.Name, n, reason)}); err != nil {
			return err
		}
		return s.raise(ctx, tx, ap, "app.evicted", "high", "", map[string]any{"reason": reason, "codes_revoked": n})
	})
	if err != nil {
		return App{}, err
	}
	return s.App(ctx, a, id)
}

// Sweep derives the findings of every admitted app again and evaluates it, as the
// platform's own work: a code that expired, a critical finding past its deadline, take
// effect without anyone reporting anything. It returns how many apps it evaluated.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM apps WHERE status = 'admitted' ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("appreg: sweep: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("appreg: sweep: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("appreg: sweep: %w", err)
	}
	for _, id := range ids {
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return s.refresh(ctx, tx, actor.System(), id) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
