package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Template is a report template: which sections a weekly or monthly report of an
// organisation (scope "org") or of a region across its hospitals (scope "region") has,
// in which language and formats, and whether the schedule makes it each period.
type Template struct {
	ID         int64     `json:"id"`
	OrgID      int64     `json:"org_id"`
	Scope      string    `json:"scope"`
	Name       string    `json:"name"`
	Sections   []string  `json:"sections"`
	Kind       string    `json:"kind"`
	Lang       string    `json:"lang"`
	Formats    []string  `json:"formats"`
	Recipients []string  `json:"recipients"`
	Scheduled  bool      `json:"scheduled"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// TemplateInput is what a template is created or updated from.
type TemplateInput struct {
	OrgID      int64    `json:"org_id"`
	Scope      string   `json:"scope"`
	Name       string   `json:"name"`
	Sections   []string `json:"sections"`
	Kind       string   `json:"kind"`
	Lang       string   `json:"lang"`
	Formats    []string `json:"formats"`
	Recipients []string `json:"recipients"`
	Scheduled  bool     `json:"scheduled"`
}

func (s *Service) checkTemplate(in *TemplateInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return problem.Required("name")
	}
	if len(in.Name) > 200 {
		return problem.TooLong("name", 200)
	}
	if in.Scope == "" {
		in.Scope = "org"
	}
	if in.Scope != "org" && in.Scope != "region" {
		return problem.OneOf("scope", "org", "region")
	}
	if !ValidKind(in.Kind) {
		return problem.OneOf("kind", Weekly, Monthly)
	}
	g := GenerateInput{Sections: in.Sections, Formats: in.Formats, Lang: in.Lang}
	if err := s.checkInput(&g); err != nil {
		return err
	}
	in.Sections, in.Formats, in.Lang = g.Sections, g.Formats, g.Lang
	if len(in.Recipients) > 20 {
		return problem.Invalid("recipients", "at most 20").WithMsg("report.error.recipients")
	}
	return nil
}

// CreateTemplate stores a new template of organisation in.OrgID, which a must see.
func (s *Service) CreateTemplate(ctx context.Context, a actor.Actor, in TemplateInput) (Template, error) {
	if err := s.checkTemplate(&in); err != nil {
		return Template{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := org.Visible(ctx, tx, a, in.OrgID); err != nil {
			return err
		}
		now := s.now()
		secs, _ := json.Marshal(in.Sections)
		if err := tx.QueryRowContext(ctx, `INSERT INTO report_templates (org_id, scope, name, sections, kind, lang, formats, recipients,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.Scope, in.Name, string(secs),
			in.Kind, in.Lang, strings.Join(in.Formats, ","), strings.Join(in.Recipients, ","), a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("report: template: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_schedules (template_id, enabled, updated_by, updated_at) VALUES (?, ?, ?, ?)`,
			id, in.Scheduled, a.Username, now); err != nil {
			return fmt.Errorf("report: schedule: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "report.template_create", ObjectType: "report_template", ObjectID: fmt.Sprint(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("created report template %d %q", id, in.Name),
			Msg: &i18n.Message{Key: "trail.summary.report.template_create", Args: []any{id, in.Name}}, After: in})
		return err
	})
	if err != nil {
		return Template{}, err
	}
	return s.Template(ctx, a, id)
}

// UpdateTemplate replaces template id's settings (its organisation stays).
func (s *Service) UpdateTemplate(ctx context.Context, a actor.Actor, id int64, in TemplateInput) (Template, error) {
	old, err := s.Template(ctx, a, id)
	if err != nil {
		return Template{}, err
	}
	in.OrgID = old.OrgID
	if err := s.checkTemplate(&in); err != nil {
		return Template{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		secs, _ := json.Marshal(in.Sections)
		if _, err := tx.ExecContext(ctx, `UPDATE report_templates SET scope = ?, name = ?, sections = ?, kind = ?, lang = ?, formats = ?,
			recipients = ?, updated_at = ? WHERE id = ?`, in.Scope, in.Name, string(secs), in.Kind, in.Lang, strings.Join(in.Formats, ","),
			strings.Join(in.Recipients, ","), now, id); err != nil {
			return fmt.Errorf("report: template: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE report_schedules SET enabled = ?, updated_by = ?, updated_at = ? WHERE template_id = ?`,
			in.Scheduled, a.Username, now, id); err != nil {
			return fmt.Errorf("report: schedule: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "report.template_update", ObjectType: "report_template", ObjectID: fmt.Sprint(id),
			OrgID: old.OrgID, Summary: fmt.Sprintf("updated report template %d %q", id, in.Name),
			Msg: &i18n.Message{Key: "trail.summary.report.template_update", Args: []any{id, in.Name}}, Before: old, After: in})
		return err
	})
	if err != nil {
		return Template{}, err
	}
	return s.Template(ctx, a, id)
}

const templateColumns = `t.id, t.org_id, t.scope, t.name, t.sections, t.kind, t.lang, t.formats, t.recipients, COALESCE(sc.enabled, false),
	t.created_by, t.created_at, t.updated_at`

func scanTemplate(sc store.Scanner) (Template, error) {
	var t Template
	var secs, formats, recips string
	var created, updated store.Time
	if err := sc.Scan(&t.ID, &t.OrgID, &t.Scope, &t.Name, &secs, &t.Kind, &t.Lang, &formats, &recips, &t.Scheduled,
		&t.CreatedBy, &created, &updated); err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = created.Time, updated.Time
	t.Formats = strings.Split(formats, ",")
	if recips != "" {
		t.Recipients = strings.Split(recips, ",")
	}
	return t, json.Unmarshal([]byte(secs), &t.Sections)
}

const templateFrom = ` FROM report_templates t JOIN orgs o ON o.id = t.org_id LEFT JOIN report_schedules sc ON sc.template_id = t.id`

// Templates lists the templates a sees.
func (s *Service) Templates(ctx context.Context, a actor.Actor) ([]Template, error) {
	cond, arg := a.SeesSQL("o.path")
	ts, err := store.Collect(ctx, s.db, scanTemplate, `SELECT `+templateColumns+templateFrom+` WHERE `+cond+` ORDER BY t.name, t.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("report: templates: %w", err)
	}
	return ts, nil
}

// Template returns template id if a sees it.
func (s *Service) Template(ctx context.Context, a actor.Actor, id int64) (Template, error) {
	cond, arg := a.SeesSQL("o.path")
	t, err := scanTemplate(s.db.QueryRowContext(ctx, `SELECT `+templateColumns+templateFrom+` WHERE t.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Template{}, problem.NotFound("report template")
	}
	if err != nil {
		return Template{}, fmt.Errorf("report: template %d: %w", id, err)
	}
	return t, nil
}

// SweepResult counts what a Sweep did.
type SweepResult struct {
	Generated int `json:"generated"`
	Empty     int `json:"empty"` // of which had nothing to report
}

// Sweep makes, as the platform at time now, the report of the previous period of every
// scheduled template that has none yet, stores it and announces it (an alert sent
// through notifications with a link to the report) — also when the period had nothing
// to report. Each template's report of a period is made once: running Sweep again in
// the same period makes nothing.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	ts, err := store.Collect(ctx, s.db, scanTemplate, `SELECT `+templateColumns+templateFrom+` WHERE sc.enabled ORDER BY t.id`)
	if err != nil {
		return res, fmt.Errorf("report: sweep: %w", err)
	}
	sys := actor.System()
	sw := *s
	sw.opt.Now = func() time.Time { return now }
	for _, t := range ts {
		p := Previous(now, t.Kind)
		key := fmt.Sprintf("%d:%s", t.ID, p)
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reports WHERE schedule_key = ?`, key).Scan(&n); err != nil {
			return res, fmt.Errorf("report: sweep: %w", err)
		}
		if n > 0 {
			continue
		}
		r, err := sw.generate(ctx, sys, GenerateInput{OrgID: t.OrgID, TemplateID: t.ID, Sections: t.Sections, Lang: t.Lang, Formats: t.Formats},
			p, "schedule", key)
		if errors.Is(err, errDuplicate) {
			continue // another process made it meanwhile
		}
		if err != nil {
			return res, fmt.Errorf("report: sweep: template %d: %w", t.ID, err)
		}
		res.Generated++
		if r.Empty {
			res.Empty++
		}
	}
	return res, nil
}
