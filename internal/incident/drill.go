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
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The kinds of drill.
const (
	DrillTabletop   = "tabletop"   // 桌面推演
	DrillFunctional = "functional" // 功能演练（单项）
	DrillFullScale  = "full_scale" // 综合实战演练
)

// DrillKinds lists the kinds of drill in the order forms offer them.
var DrillKinds = []string{DrillTabletop, DrillFunctional, DrillFullScale}

// The kinds of alert Sweep raises (source "plans").
const (
	AlertTaskOverdue   = "plan.task_overdue"   // an improvement task open past its due date
	AlertNotDrilled    = "plan.not_drilled"    // a plan not drilled within DrillInterval
	AlertReviewOverdue = "plan.review_overdue" // a plan past its review date
)

// DrillTaskInput is an improvement task a drill found.
type DrillTaskInput struct {
	Title    string    `json:"title"`
	Assignee string    `json:"assignee"`
	Due      time.Time `json:"due"`
}

// DrillInput is a drill as recorded.
type DrillInput struct {
	HeldOn       time.Time `json:"held_on"`
	Kind         string    `json:"kind"`
	Scenario     string    `json:"scenario"`
	Participants []string  `json:"participants"`
	// The timings of the exercise: when the scenario started, was detected, contained
	// and recovered from. Each is optional but needs the ones before it, and they are in
	// order.
	StartedAt   *time.Time       `json:"started_at,omitempty"`
	DetectedAt  *time.Time       `json:"detected_at,omitempty"`
	ContainedAt *time.Time       `json:"contained_at,omitempty"`
	RecoveredAt *time.Time       `json:"recovered_at,omitempty"`
	Findings    string           `json:"findings"`
	Tasks       []DrillTaskInput `json:"tasks"`
}

// Drill is a recorded drill of a plan.
type Drill struct {
	ID           int64      `json:"id"`
	PlanID       int64      `json:"plan_id"`
	PlanTitle    Text       `json:"plan_title"`
	OrgID        int64      `json:"org_id"`
	HeldOn       time.Time  `json:"held_on"`
	Kind         string     `json:"kind"`
	Scenario     string     `json:"scenario"`
	Participants []string   `json:"participants"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	DetectedAt   *time.Time `json:"detected_at,omitempty"`
	ContainedAt  *time.Time `json:"contained_at,omitempty"`
	RecoveredAt  *time.Time `json:"recovered_at,omitempty"`
	// Seconds from the start to detection, containment and recovery (nil: not timed).
	DetectSeconds  *int64      `json:"detect_seconds,omitempty"`
	ContainSeconds *int64      `json:"contain_seconds,omitempty"`
	RecoverSeconds *int64      `json:"recover_seconds,omitempty"`
	Findings       string      `json:"findings"`
	Tasks          []DrillTask `json:"tasks"`
	// OpenTasks counts the tasks not done.
	OpenTasks int       `json:"open_tasks"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// DrillTask is an improvement task of a drill, tracked to closure.
type DrillTask struct {
	ID       int64      `json:"id"`
	DrillID  int64      `json:"drill_id"`
	Title    string     `json:"title"`
	Assignee string     `json:"assignee"`
	Due      time.Time  `json:"due"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
	DoneBy   string     `json:"done_by,omitempty"`
}

func checkTask(field string, t DrillTaskInput) (DrillTaskInput, error) {
	var err error
	if t.Title, err = checkString(field+".title", t.Title, maxTitleRunes); err != nil {
		return t, invalid(err)
	}
	if t.Assignee, err = checkString(field+".assignee", t.Assignee, maxPersonRunes); err != nil {
		return t, invalid(err)
	}
	switch {
	case t.Title == "":
		return t, problem.Required(field + ".title")
	case t.Assignee == "":
		return t, problem.Required(field + ".assignee")
	case t.Due.IsZero():
		return t, problem.Required(field + ".due")
	}
	t.Due = t.Due.UTC()
	return t, nil
}

func checkDrill(in DrillInput) (DrillInput, error) {
	var err error
	if in.HeldOn.IsZero() {
		return in, problem.Required("held_on")
	}
	in.HeldOn = in.HeldOn.UTC()
	if !slices.Contains(DrillKinds, in.Kind) {
		return in, problem.OneOf("kind", DrillKinds...)
	}
	if in.Scenario, err = checkString("scenario", in.Scenario, maxTextRunes); err != nil {
		return in, invalid(err)
	}
	if in.Scenario == "" {
		return in, problem.Required("scenario")
	}
	if in.Findings, err = checkString("findings", in.Findings, 10*maxTextRunes); err != nil {
		return in, invalid(err)
	}
	var people []string
	for _, p := range in.Participants {
		if p, err = checkString("participants", p, maxPersonRunes); err != nil {
			return in, invalid(err)
		}
		if p != "" && !slices.Contains(people, p) {
			people = append(people, p)
		}
	}
	if len(people) == 0 {
		return in, problem.Required("participants")
	}
	if len(people) > 200 || len(in.Tasks) > 50 {
		return in, problem.Invalid("participants", "too many participants or tasks (at most 200 and 50)").WithMsg("plan.error.drill_too_many")
	}
	in.Participants = people
	times := []*time.Time{in.StartedAt, in.DetectedAt, in.ContainedAt, in.RecoveredAt}
	names := []string{"started_at", "detected_at", "contained_at", "recovered_at"}
	for i, t := range times {
		if t == nil {
			continue
		}
		u := t.UTC()
		times[i] = &u
		if i > 0 && times[i-1] == nil {
			return in, problem.Invalid(names[i], "needs the time before it").WithMsg("plan.error.timing_gap")
		}
		if i > 0 && u.Before(*times[i-1]) {
			return in, problem.Invalid(names[i], "is before the time before it").WithMsg("plan.error.timing_order")
		}
	}
	in.StartedAt, in.DetectedAt, in.ContainedAt, in.RecoveredAt = times[0], times[1], times[2], times[3]
	in.Tasks = slices.Clone(in.Tasks)
	for i := range in.Tasks {
		if in.Tasks[i], err = checkTask(fmt.Sprintf("tasks[%d]", i), in.Tasks[i]); err != nil {
			return in, err
		}
	}
	return in, nil
}

// RecordDrill records a drill of plan planID with its improvement tasks.
func (p *Plans) RecordDrill(ctx context.Context, a actor.Actor, planID int64, in DrillInput) (Drill, error) {
	in, err := checkDrill(in)
	if err != nil {
		return Drill{}, err
	}
	people, err := json.Marshal(in.Participants)
	if err != nil {
		return Drill{}, fmt.Errorf("incident: drill: %w", err)
	}
	var id int64
	err = p.db.InTx(ctx, func(tx *store.Tx) error {
		pl, err := p.get(ctx, tx, a, planID)
		if err != nil {
			return err
		}
		now := p.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO plan_drills (plan_id, held_on, kind, scenario, participants, started_at,
			detected_at, contained_at, recovered_at, findings, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, planID, in.HeldOn, in.Kind, in.Scenario, string(people),
			in.StartedAt, in.DetectedAt, in.ContainedAt, in.RecoveredAt, in.Findings, a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("incident: drill: %w", err)
		}
		for _, t := range in.Tasks {
			if err := p.insertTask(ctx, tx, id, t); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plans SET drill_alerted_at = NULL WHERE id = ?`, planID); err != nil {
			return fmt.Errorf("incident: drill: %w", err)
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.drill", ObjectType: "plan", ObjectID: itoa(planID), OrgID: pl.OrgID,
			Summary: fmt.Sprintf("%s drill of %q on %s recorded (%d participants, %d improvement tasks)", in.Kind, listTitle(pl.Content),
				in.HeldOn.Format("2006-01-02"), len(in.Participants), len(in.Tasks)),
			Msg: trail.Msg("trail.summary.plan.drill", i18n.M("plan.drill_kind."+in.Kind), listTitle(pl.Content), in.HeldOn.Format("2006-01-02"),
				len(in.Participants), len(in.Tasks)), After: in})
		return err
	})
	if err != nil {
		return Drill{}, err
	}
	return p.Drill(ctx, a, id)
}

func (p *Plans) insertTask(ctx context.Context, tx *store.Tx, drillID int64, t DrillTaskInput) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO plan_drill_tasks (drill_id, title, assignee, due_at, created_at)
		VALUES (?, ?, ?, ?, ?)`, drillID, t.Title, t.Assignee, t.Due, p.now()); err != nil {
		return fmt.Errorf("incident: drill task: %w", err)
	}
	return nil
}

const drillColumns = `d.id, d.plan_id, p.content, p.org_id, d.held_on, d.kind, d.scenario, d.participants, d.started_at,
	d.detected_at, d.contained_at, d.recovered_at, d.findings, d.created_by, d.created_at`

func scanDrill(sc interface{ Scan(...any) error }) (Drill, error) {
	var d Drill
	var content, people string
	var held, started, detected, contained, recovered, created store.Time
	if err := sc.Scan(&d.ID, &d.PlanID, &content, &d.OrgID, &held, &d.Kind, &d.Scenario, &people, &started, &detected,
		&contained, &recovered, &d.Findings, &d.CreatedBy, &created); err != nil {
		return d, err
	}
	var c Content
	if err := json.Unmarshal([]byte(content), &c); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(people), &d.Participants); err != nil {
		return d, err
	}
	d.PlanTitle, d.HeldOn, d.CreatedAt = c.Title, held.Time, created.Time
	d.StartedAt, d.DetectedAt, d.ContainedAt, d.RecoveredAt = started.Ptr(), detected.Ptr(), contained.Ptr(), recovered.Ptr()
	since := func(t *time.Time) *int64 {
		if t == nil || d.StartedAt == nil {
			return nil
		}
		s := int64(t.Sub(*d.StartedAt) / time.Second)
		return &s
	}
	d.DetectSeconds, d.ContainSeconds, d.RecoverSeconds = since(d.DetectedAt), since(d.ContainedAt), since(d.RecoveredAt)
	return d, nil
}

func (p *Plans) fillTasks(ctx context.Context, q store.Querier, d *Drill) error {
	rows, err := q.QueryContext(ctx, `SELECT id, drill_id, title, assignee, due_at, done_at, done_by FROM plan_drill_tasks
		WHERE drill_id = ? ORDER BY due_at, id`, d.ID)
	if err != nil {
		return fmt.Errorf("incident: drill tasks: %w", err)
	}
	defer rows.Close()
	d.Tasks, d.OpenTasks = []DrillTask{}, 0
	for rows.Next() {
		var t DrillTask
		var due, done store.Time
		if err := rows.Scan(&t.ID, &t.DrillID, &t.Title, &t.Assignee, &due, &done, &t.DoneBy); err != nil {
			return fmt.Errorf("incident: drill tasks: %w", err)
		}
		t.Due, t.DoneAt = due.Time, done.Ptr()
		if t.DoneAt == nil {
			d.OpenTasks++
		}
		d.Tasks = append(d.Tasks, t)
	}
	return rows.Err()
}

func (p *Plans) drill(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Drill, error) {
	cond, arg := a.SeesSQL("o.path")
	d, err := scanDrill(q.QueryRowContext(ctx, `SELECT `+drillColumns+` FROM plan_drills d JOIN plans p ON p.id = d.plan_id
		JOIN orgs o ON o.id = p.org_id WHERE d.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Drill{}, problem.NotFound("drill")
	}
	if err != nil {
		return Drill{}, fmt.Errorf("incident: drill %d: %w", id, err)
	}
	return d, p.fillTasks(ctx, q, &d)
}

// Drill returns drill id with its tasks.
func (p *Plans) Drill(ctx context.Context, a actor.Actor, id int64) (Drill, error) {
	return p.drill(ctx, p.db, a, id)
}

// DrillQuery narrows Drills; zero fields match everything.
type DrillQuery struct {
	PlanID int64
	OrgID  int64
	// Open keeps the drills with improvement tasks not done.
	Open bool
}

// Drills lists the drills a sees, newest first, with their tasks.
func (p *Plans) Drills(ctx context.Context, a actor.Actor, q DrillQuery) ([]Drill, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.PlanID != 0 {
		where, args = append(where, "d.plan_id = ?"), append(args, q.PlanID)
	}
	if q.OrgID != 0 {
		where, args = append(where, "p.org_id = ?"), append(args, q.OrgID)
	}
	if q.Open {
		where = append(where, "EXISTS (SELECT 1 FROM plan_drill_tasks t WHERE t.drill_id = d.id AND t.done_at IS NULL)")
	}
	rows, err := p.db.QueryContext(ctx, `SELECT `+drillColumns+` FROM plan_drills d JOIN plans p ON p.id = d.plan_id
		JOIN orgs o ON o.id = p.org_id WHERE `+strings.Join(where, " AND ")+` ORDER BY d.held_on DESC, d.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident: drills: %w", err)
	}
	out := []Drill{}
	for rows.Next() {
		d, err := scanDrill(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident: drills: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: drills: %w", err)
	}
	for i := range out {
		if err := p.fillTasks(ctx, p.db, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AddTask adds an improvement task to drill drillID.
func (p *Plans) AddTask(ctx context.Context, a actor.Actor, drillID int64, in DrillTaskInput) (Drill, error) {
	in, err := checkTask("task", in)
	if err != nil {
		return Drill{}, err
	}
	err = p.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := p.drill(ctx, tx, a, drillID)
		if err != nil {
			return err
		}
		if err := p.insertTask(ctx, tx, drillID, in); err != nil {
			return err
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.drill_task_add", ObjectType: "plan", ObjectID: itoa(d.PlanID), OrgID: d.OrgID,
			Summary: fmt.Sprintf("drill %d: improvement task %q for %s, due %s", drillID, in.Title, in.Assignee, in.Due.Format("2006-01-02")),
			Msg:     trail.Msg("trail.summary.plan.drill_task_add", drillID, in.Title, in.Assignee, in.Due.Format("2006-01-02"))})
		return err
	})
	if err != nil {
		return Drill{}, err
	}
	return p.Drill(ctx, a, drillID)
}

// CloseTask marks improvement task taskID done (or open again, done false), recording who
// and when, and returns its drill.
func (p *Plans) CloseTask(ctx context.Context, a actor.Actor, taskID int64, done bool) (Drill, error) {
	var drillID int64
	err := p.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT drill_id FROM plan_drill_tasks WHERE id = ?`, taskID).Scan(&drillID); errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("task")
		} else if err != nil {
			return fmt.Errorf("incident: task: %w", err)
		}
		d, err := p.drill(ctx, tx, a, drillID)
		if problem.KindOf(err) == problem.KindNotFound {
			return problem.NotFound("task")
		}
		if err != nil {
			return err
		}
		i := slices.IndexFunc(d.Tasks, func(t DrillTask) bool { return t.ID == taskID })
		t := d.Tasks[i]
		if (t.DoneAt != nil) == done {
			return nil // already so
		}
		by, at := "", (*time.Time)(nil)
		if done {
			now := p.now()
			by, at = a.Username, &now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plan_drill_tasks SET done_at = ?, done_by = ? WHERE id = ?`, at, by, taskID); err != nil {
			return fmt.Errorf("incident: task: %w", err)
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.drill_task_done", ObjectType: "plan", ObjectID: itoa(d.PlanID), OrgID: d.OrgID,
			Summary: fmt.Sprintf("drill %d: improvement task %q done: %t", drillID, t.Title, done),
			Msg:     trail.Msg("trail.summary.plan.drill_task_done", drillID, t.Title, i18n.M("plan.tick."+fmt.Sprint(done)))})
		return err
	})
	if err != nil {
		return Drill{}, err
	}
	return p.Drill(ctx, a, drillID)
}

// Sweep raises, once each, an alert for every improvement task open past its due date,
// every plan not drilled within DrillInterval (counted from its adoption while it has no
// drill) and every plan past its review date, at now. A second sweep raises nothing new:
// a task is alerted once, a plan again only after a drill (or an approval) resets it,
// each missed drill deadline and review date being an alert of its own (dedup key with the date).
// It returns how many alerts it raised; without PlanOptions.Alerts it does nothing.
func (p *Plans) Sweep(ctx context.Context, now time.Time) (int, error) {
	if p.opt.Alerts == nil {
		return 0, nil
	}
	now = now.UTC()
	n := 0
	err := p.db.InTx(ctx, func(tx *store.Tx) error {
		type hit struct {
			id, org        int64
			title, subject string
			due            time.Time
			kind, severity string
			dedup          string
			markSQL        string
			evidence       map[string]any
		}
		var hits []hit
		rows, err := tx.QueryContext(ctx, `SELECT t.id, p.org_id, t.title, t.assignee, t.due_at, d.id, p.id, p.title FROM plan_drill_tasks t
			JOIN plan_drills d ON d.id = t.drill_id JOIN plans p ON p.id = d.plan_id
			WHERE t.done_at IS NULL AND t.overdue_alerted_at IS NULL AND t.due_at < ? ORDER BY t.id`, now)
		if err != nil {
			return fmt.Errorf("incident: sweep tasks: %w", err)
		}
		for rows.Next() {
			var h hit
			var assignee, plan string
			var drillID, planID int64
			var due store.Time
			if err := rows.Scan(&h.id, &h.org, &h.title, &assignee, &due, &drillID, &planID, &plan); err != nil {
				rows.Close()
				return fmt.Errorf("incident: sweep tasks: %w", err)
			}
			h.due, h.kind, h.severity = due.Time, AlertTaskOverdue, "medium"
			h.subject, h.dedup = plan+" · "+h.title, fmt.Sprintf("plan_task:%d", h.id)
			h.markSQL = `UPDATE plan_drill_tasks SET overdue_alerted_at = ? WHERE id = ?`
			h.evidence = map[string]any{"plan_id": planID, "drill_id": drillID, "task_id": h.id, "assignee": assignee,
				"due": h.due.Format("2006-01-02")}
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("incident: sweep tasks: %w", err)
		}
		rows, err = tx.QueryContext(ctx, `SELECT p.id, p.org_id, p.title, p.created_at, p.review_due, p.drill_alerted_at,
			p.review_alerted_at, (SELECT MAX(d.held_on) FROM plan_drills d WHERE d.plan_id = p.id) FROM plans p ORDER BY p.id`)
		if err != nil {
			return fmt.Errorf("incident: sweep plans: %w", err)
		}
		for rows.Next() {
			var id, org int64
			var title string
			var created, review, drillAlerted, reviewAlerted, last store.Time
			if err := rows.Scan(&id, &org, &title, &created, &review, &drillAlerted, &reviewAlerted, &last); err != nil {
				rows.Close()
				return fmt.Errorf("incident: sweep plans: %w", err)
			}
			since := created.Time
			if last.Valid {
				since = last.Time
			}
			if !drillAlerted.Valid && now.Sub(since) > p.opt.DrillInterval {
				ev := map[string]any{"plan_id": id, "interval_days": int(p.opt.DrillInterval.Hours() / 24)}
				if last.Valid {
					ev["last_drill"] = last.Time.Format("2006-01-02")
				}
				hits = append(hits, hit{id: id, org: org, title: title, subject: title, due: since.Add(p.opt.DrillInterval),
					kind: AlertNotDrilled, severity: "medium", dedup: fmt.Sprintf("plan_drill:%d:%s", id, since.Format("2006-01-02")),
					markSQL: `UPDATE plans SET drill_alerted_at = ? WHERE id = ?`, evidence: ev})
			}
			if review.Valid && !reviewAlerted.Valid && review.Time.Before(now) {
				hits = append(hits, hit{id: id, org: org, title: title, subject: title, due: review.Time,
					kind: AlertReviewOverdue, severity: "low", dedup: fmt.Sprintf("plan_review:%d:%s", id, review.Time.Format("2006-01-02")),
					markSQL:  `UPDATE plans SET review_alerted_at = ? WHERE id = ?`,
					evidence: map[string]any{"plan_id": id, "review_due": review.Time.Format("2006-01-02")}})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("incident: sweep plans: %w", err)
		}
		for _, h := range hits {
			_, created, err := p.opt.Alerts.Raise(ctx, tx, alert.Input{OrgID: h.org, Source: "plans", Kind: h.kind, Severity: h.severity,
				Title:   i18n.M("plan.alert."+strings.TrimPrefix(h.kind, "plan."), h.title, h.due.Format("2006-01-02")),
				Subject: h.subject, Evidence: h.evidence, DedupKey: h.dedup, At: now})
			if err != nil {
				return fmt.Errorf("incident: raise %s: %w", h.kind, err)
			}
			if created {
				n++
			}
			if _, err := tx.ExecContext(ctx, h.markSQL, now, h.id); err != nil {
				return fmt.Errorf("incident: sweep: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
