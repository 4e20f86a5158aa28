package alert

import (
	"context"
	"database/sql"
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

// Case groups alerts that are worked on together. It moves through the same workflow
// as an alert (new → investigating → resolved → closed), carrying its open alerts
// along; it has an assignee, comments and a due date: the earliest of its alerts', or
// its severity's SLA from its creation when none has one.
type Case struct {
	ID               int64      `json:"id"`
	OrgID            int64      `json:"org_id"`
	OrgName          string     `json:"org_name"`
	Title            string     `json:"title"`
	Severity         string     `json:"severity"`
	Status           string     `json:"status"`
	Resolution       string     `json:"resolution"`
	ResolutionReason string     `json:"resolution_reason"`
	AcceptedUntil    *time.Time `json:"accepted_until"`
	Assignee         string     `json:"assignee"`
	DueAt            *time.Time `json:"due_at"`
	CreatedBy        string     `json:"created_by"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	// Alerts counts the alerts of the case.
	Alerts int `json:"alerts"`
}

// Overdue reports whether the open case's due date is before now.
func (c Case) Overdue(now time.Time) bool {
	return (c.Status == StatusNew || c.Status == StatusInvestigating) && c.DueAt != nil && c.DueAt.Before(now)
}

// Comment is a note on a case.
type Comment struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// CaseDetail is a case with its alerts and comments (oldest first).
type CaseDetail struct {
	Case
	AlertList []Alert   `json:"alert_list"`
	Comments  []Comment `json:"comments"`
}

// CaseInput is a new case: alerts of organisation OrgID's subtree grouped under a title.
type CaseInput struct {
	OrgID    int64   `json:"org_id"`
	Title    string  `json:"title"`
	AlertIDs []int64 `json:"alert_ids"`
	Assignee string  `json:"assignee"`
}

const caseColumns = `c.id, c.org_id, o.name, c.title, c.severity, c.status, c.resolution, c.resolution_reason, c.accepted_until,
	c.assignee, c.due_at, c.created_by, c.created_at, c.updated_at, (SELECT COUNT(*) FROM alerts x WHERE x.case_id = c.id)`

func scanCase(sc scanner) (Case, error) {
	var c Case
	var accepted, due, created, updated store.Time
	err := sc.Scan(&c.ID, &c.OrgID, &c.OrgName, &c.Title, &c.Severity, &c.Status, &c.Resolution, &c.ResolutionReason, &accepted,
		&c.Assignee, &due, &c.CreatedBy, &created, &updated, &c.Alerts)
	c.AcceptedUntil, c.DueAt, c.CreatedAt, c.UpdatedAt = accepted.Ptr(), due.Ptr(), created.Time, updated.Time
	return c, err
}

func (s *Service) getCase(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Case, error) {
	cond, arg := a.SeesSQL("o.path")
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM alert_cases c JOIN orgs o ON o.id = c.org_id
		WHERE c.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, problem.NotFound("case")
	}
	if err != nil {
		return Case{}, fmt.Errorf("alert: read case %d: %w", id, err)
	}
	return c, nil
}

// orgPath returns the path of organisation id.
func orgPath(ctx context.Context, q store.Querier, id int64) (string, error) {
	var p string
	if err := q.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, id).Scan(&p); err != nil {
		return "", fmt.Errorf("alert: organisation %d: %w", id, err)
	}
	return p, nil
}

// attach adds the alerts ids to case c, whose organisation has path casePath, inside
// tx: each must lie in the case's subtree and belong to no other case.
func (s *Service) attach(ctx context.Context, tx *store.Tx, a actor.Actor, c Case, casePath string, ids []int64) ([]Alert, error) {
	als, err := s.loadAll(ctx, tx, a, ids)
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	for _, al := range als {
		if al.CaseID != 0 && al.CaseID != c.ID {
			return nil, problem.Conflict("alert %d belongs to case %d already", al.ID, al.CaseID).WithCode("alert_in_case").
				WithMsg("alert.error.in_case", al.ID, al.CaseID)
		}
		p, err := orgPath(ctx, tx, al.OrgID)
		if err != nil {
			return nil, err
		}
		if !org.Contains(casePath, p) {
			return nil, problem.Invalid("alert_ids", "alert %d belongs to an organisation outside the case's", al.ID).
				WithMsg("alert.error.outside_case_org", al.ID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET case_id = ?, updated_at = ? WHERE id = ?`, c.ID, now, al.ID); err != nil {
			return nil, fmt.Errorf("alert: attach alert %d: %w", al.ID, err)
		}
	}
	return als, nil
}

// refreshCase sets case id's severity to the highest of its alerts' and its due date to
// the earliest of their due dates (keeping its own when none has one).
func refreshCase(ctx context.Context, tx *store.Tx, id int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT severity, due_at FROM alerts WHERE case_id = ?`, id)
	if err != nil {
		return fmt.Errorf("alert: case %d: %w", id, err)
	}
	defer rows.Close()
	sev := ""
	var due *time.Time
	for rows.Next() {
		var s string
		var d store.Time
		if err := rows.Scan(&s, &d); err != nil {
			return fmt.Errorf("alert: case %d: %w", id, err)
		}
		if severityRank(s) > severityRank(sev) {
			sev = s
		}
		if d.Valid && (due == nil || d.Time.Before(*due)) {
			due = d.Ptr()
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("alert: case %d: %w", id, err)
	}
	rows.Close()
	if sev == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alert_cases SET severity = ?, due_at = COALESCE(?, due_at) WHERE id = ?`,
		sev, store.NullTime(due), id); err != nil {
		return fmt.Errorf("alert: case %d: %w", id, err)
	}
	return nil
}

// CreateCase groups the alerts in.AlertIDs, which a must see and which must lie in
// organisation in.OrgID's subtree and belong to no other case, into a new case.
func (s *Service) CreateCase(ctx context.Context, a actor.Actor, in CaseInput) (CaseDetail, error) {
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		return CaseDetail{}, problem.Required("title")
	case len([]rune(in.Title)) > 300:
		return CaseDetail{}, problem.TooLong("title", 300)
	case strings.ContainsRune(in.Title, 0):
		return CaseDetail{}, problem.Invalid("title", "contains a NUL character").WithMsg("alert.error.nul")
	}
	if err := checkIDs(in.AlertIDs); err != nil {
		return CaseDetail{}, err
	}
	assignee, err := checkAssignee(in.Assignee)
	if err != nil {
		return CaseDetail{}, err
	}
	if err := s.checkUser(ctx, a, assignee); err != nil {
		return CaseDetail{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		now := s.stamp()
		if err := tx.QueryRowContext(ctx, `INSERT INTO alert_cases (org_id, title, severity, status, assignee, created_by,
			created_at, updated_at) VALUES (?, ?, 'info', 'new', ?, ?, ?, ?) RETURNING id`, o.ID, in.Title, assignee, a.Username,
			now, now).Scan(&id); err != nil {
			return fmt.Errorf("alert: insert case: %w", err)
		}
		c := Case{ID: id, OrgID: o.ID}
		als, err := s.attach(ctx, tx, a, c, o.Path, in.AlertIDs)
		if err != nil {
			return err
		}
		if err := refreshCase(ctx, tx, id); err != nil {
			return err
		}
		// Without an alert's due date, the SLA of the case's severity from now.
		if c, err = s.getCase(ctx, tx, a, id); err != nil {
			return err
		}
		if c.DueAt == nil {
			h, err := slaHours(ctx, tx, o.ID, c.Severity)
			if err != nil {
				return err
			}
			if h > 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE alert_cases SET due_at = ? WHERE id = ?`,
					now.Add(time.Duration(h)*time.Hour), id); err != nil {
					return fmt.Errorf("alert: case due date: %w", err)
				}
			}
		}
		ids := make([]string, len(als))
		for i, al := range als {
			ids[i] = idString(al.ID)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.case_create", ObjectType: "alert_case",
			ObjectID: idString(id), OrgID: o.ID, Summary: fmt.Sprintf("%s: alerts %s", in.Title, strings.Join(ids, ", ")),
			Msg:   trail.Msg("trail.summary.alert.case_create", in.Title, strings.Join(ids, ", ")),
			After: map[string]any{"title": in.Title, "alerts": in.AlertIDs, "assignee": assignee}})
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	return s.Case(ctx, a, id)
}

// AddToCase adds the alerts ids to case id (see CreateCase for which may join).
func (s *Service) AddToCase(ctx context.Context, a actor.Actor, id int64, ids []int64) (CaseDetail, error) {
	// Another organisation's case is not found, whatever the input.
	if _, err := s.getCase(ctx, s.db, a, id); err != nil {
		return CaseDetail{}, err
	}
	if err := checkIDs(ids); err != nil {
		return CaseDetail{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.getCase(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Status == StatusClosed {
			return problem.Conflict("case %d is closed", id).WithCode("alert_case_closed").WithMsg("alert.error.case_closed", id)
		}
		p, err := orgPath(ctx, tx, c.OrgID)
		if err != nil {
			return err
		}
		if _, err := s.attach(ctx, tx, a, c, p, ids); err != nil {
			return err
		}
		if err := refreshCase(ctx, tx, id); err != nil {
			return err
		}
		strs := make([]string, len(ids))
		for i, x := range ids {
			strs[i] = idString(x)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.case_add", ObjectType: "alert_case", ObjectID: idString(id),
			OrgID: c.OrgID, Summary: c.Title + ": added alerts " + strings.Join(strs, ", "),
			Msg: trail.Msg("trail.summary.alert.case_add", c.Title, strings.Join(strs, ", ")), After: map[string]any{"alerts": ids}})
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	return s.Case(ctx, a, id)
}

// Case returns case id with its alerts and comments, if a sees it.
func (s *Service) Case(ctx context.Context, a actor.Actor, id int64) (CaseDetail, error) {
	c, err := s.getCase(ctx, s.db, a, id)
	if err != nil {
		return CaseDetail{}, err
	}
	d := CaseDetail{Case: c}
	if d.AlertList, _, err = s.List(ctx, a, Filter{CaseID: id, Limit: MaxBulk}); err != nil {
		return CaseDetail{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, case_id, author, body, created_at FROM alert_case_comments WHERE case_id = ?
		ORDER BY id`, id)
	if err != nil {
		return CaseDetail{}, fmt.Errorf("alert: comments of case %d: %w", id, err)
	}
	defer rows.Close()
	d.Comments = []Comment{}
	for rows.Next() {
		var cm Comment
		var at store.Time
		if err := rows.Scan(&cm.ID, &cm.CaseID, &cm.Author, &cm.Body, &at); err != nil {
			return CaseDetail{}, fmt.Errorf("alert: comments of case %d: %w", id, err)
		}
		cm.CreatedAt = at.Time
		d.Comments = append(d.Comments, cm)
	}
	return d, rows.Err()
}

// CaseQuery selects cases; zero fields select everything.
type CaseQuery struct {
	Status   string // a status, or "open"
	Assignee string
	Overdue  bool
	Limit    int
	Offset   int
}

// Cases lists the cases a sees, newest first, and how many match in all.
func (s *Service) Cases(ctx context.Context, a actor.Actor, q CaseQuery) ([]Case, int, error) {
	cond, arg := a.SeesSQL("o.path")
	args := []any{arg}
	switch q.Status {
	case "":
	case StatusOpen:
		cond += ` AND c.status IN ('new', 'investigating')`
	default:
		if !validStatus(q.Status) {
			return nil, 0, problem.OneOf("status", append([]string{StatusOpen}, Statuses...)...)
		}
		cond += ` AND c.status = ?`
		args = append(args, q.Status)
	}
	if q.Assignee != "" {
		cond += ` AND c.assignee = ?`
		args = append(args, q.Assignee)
	}
	if q.Overdue {
		cond += ` AND c.status IN ('new', 'investigating') AND c.due_at < ?`
		args = append(args, s.stamp())
	}
	return list(ctx, s.db, `FROM alert_cases c JOIN orgs o ON o.id = c.org_id WHERE `+cond, `c.id DESC`, caseColumns, args,
		q.Limit, q.Offset, scanCase)
}

// SetCaseStatus moves case id by ch, and with it each of its alerts that allows the
// move; the case must allow it.
func (s *Service) SetCaseStatus(ctx context.Context, a actor.Actor, id int64, ch Change) (CaseDetail, error) {
	if _, err := s.getCase(ctx, s.db, a, id); err != nil {
		return CaseDetail{}, err
	}
	now := s.stamp()
	if err := ch.validate(now); err != nil {
		return CaseDetail{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.getCase(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !allowed(c.Status, ch.Status) {
			return problem.Conflict("case %d is %s and cannot become %s", id, c.Status, ch.Status).WithCode("alert_transition").
				WithMsg("alert.error.case_transition", id, i18n.M("alert.status."+c.Status), i18n.M("alert.status."+ch.Status))
		}
		cc := ch
		if cc.Status == StatusClosed {
			cc.Resolution, cc.Reason, cc.AcceptedUntil = c.Resolution, c.ResolutionReason, c.AcceptedUntil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_cases SET status = ?, resolution = ?, resolution_reason = ?, accepted_until = ?,
			updated_at = ? WHERE id = ?`, cc.Status, cc.Resolution, cc.Reason, store.NullTime(cc.AcceptedUntil), now, id); err != nil {
			return fmt.Errorf("alert: change case %d: %w", id, err)
		}
		evs := []trail.Event{{Action: "alert.case_status", ObjectType: "alert_case", ObjectID: idString(id), OrgID: c.OrgID,
			Summary: c.Title + " → " + ch.summary(), Msg: trail.Msg("trail.summary.alert.case_status", c.Title, ch.msg()), After: ch}}
		als, _, err := s.list(ctx, tx, a, Filter{CaseID: id, Limit: MaxBulk})
		if err != nil {
			return err
		}
		for i := range als {
			al := &als[i]
			if !allowed(al.Status, ch.Status) {
				continue
			}
			if err := s.move(ctx, tx, a, al, ch, now); err != nil {
				return err
			}
			evs = append(evs, trail.Event{Action: "alert.status", ObjectType: "alert", ObjectID: idString(al.ID), OrgID: al.OrgID,
				Summary: al.Title + " → " + ch.summary() + " (case " + idString(id) + ")",
				Msg:     trail.Msg("trail.summary.alert.status_in_case", titleArg(*al), ch.msg(), idString(id)), After: ch})
		}
		_, err = s.trail.AppendBatch(ctx, tx, a, evs)
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	return s.Case(ctx, a, id)
}

// AssignCase gives case id to the user named assignee ("" to nobody).
func (s *Service) AssignCase(ctx context.Context, a actor.Actor, id int64, assignee string) (CaseDetail, error) {
	if _, err := s.getCase(ctx, s.db, a, id); err != nil {
		return CaseDetail{}, err
	}
	assignee, err := checkAssignee(assignee)
	if err != nil {
		return CaseDetail{}, err
	}
	if err := s.checkUser(ctx, a, assignee); err != nil {
		return CaseDetail{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.getCase(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Assignee == assignee {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_cases SET assignee = ?, updated_at = ? WHERE id = ?`, assignee, s.stamp(), id); err != nil {
			return fmt.Errorf("alert: assign case %d: %w", id, err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.case_assign", ObjectType: "alert_case", ObjectID: idString(id),
			OrgID: c.OrgID, Summary: c.Title + " → " + orNobody(assignee),
			Msg: trail.Msg("trail.summary.alert.case_assign", c.Title, nobodyArg(assignee)), Before: map[string]string{"assignee": c.Assignee},
			After: map[string]string{"assignee": assignee}})
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	return s.Case(ctx, a, id)
}

// MaxComment bounds a comment's length in characters.
const MaxComment = 10000

// CommentCase adds a's comment body to case id.
func (s *Service) CommentCase(ctx context.Context, a actor.Actor, id int64, body string) (Comment, error) {
	if _, err := s.getCase(ctx, s.db, a, id); err != nil {
		return Comment{}, err
	}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return Comment{}, problem.Required("body")
	case len([]rune(body)) > MaxComment:
		return Comment{}, problem.TooLong("body", MaxComment)
	case strings.ContainsRune(body, 0):
		return Comment{}, problem.Invalid("body", "contains a NUL character").WithMsg("alert.error.nul")
	}
	cm := Comment{CaseID: id, Author: a.Username, Body: body, CreatedAt: s.stamp()}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.getCase(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO alert_case_comments (case_id, author, body, created_at) VALUES (?, ?, ?, ?)
			RETURNING id`, id, cm.Author, cm.Body, cm.CreatedAt).Scan(&cm.ID); err != nil {
			return fmt.Errorf("alert: comment on case %d: %w", id, err)
		}
		// The trail records that a comment was made, not its text (it may name a patient).
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.case_comment", ObjectType: "alert_case",
			ObjectID: idString(id), OrgID: c.OrgID, Summary: fmt.Sprintf("%s: comment %d", c.Title, cm.ID),
			Msg:   trail.Msg("trail.summary.alert.case_comment", c.Title, cm.ID),
			After: map[string]any{"comment": cm.ID, "chars": len([]rune(body))}})
		return err
	})
	if err != nil {
		return Comment{}, err
	}
	return cm, nil
}
