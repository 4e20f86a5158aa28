package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Review is the post-incident review (复盘).
type Review struct {
	RootCause  string    `json:"root_cause"`
	Lessons    string    `json:"lessons"`
	ReviewedBy string    `json:"reviewed_by"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

// ReviewInput is what a review says.
type ReviewInput struct {
	RootCause string `json:"root_cause"`
	Lessons   string `json:"lessons"`
}

// Task is a follow-up task of the review.
type Task struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Assignee  string     `json:"assignee"`
	Due       *time.Time `json:"due"`
	Done      bool       `json:"done"`
	DoneAt    *time.Time `json:"done_at"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// TaskInput is a new follow-up task.
type TaskInput struct {
	Title    string     `json:"title"`
	Assignee string     `json:"assignee"`
	Due      *time.Time `json:"due"`
}

// SetReview records (or rewrites) the post-incident review of incident id: the root
// cause is required. A closed incident's review is final.
func (s *Service) SetReview(ctx context.Context, a actor.Actor, id int64, r ReviewInput) (Review, error) {
	var err error
	if r.RootCause, err = text("root_cause", r.RootCause, 10000, true); err != nil {
		return Review{}, err
	}
	if r.Lessons, err = text("lessons", r.Lessons, 10000, false); err != nil {
		return Review{}, err
	}
	var out Review
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Status == StatusClosed {
			return problem.Conflict("the incident is closed").WithMsg("incident.error.closed")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET root_cause = ?, lessons = ?, reviewed_by = ?, reviewed_at = ?,
			updated_at = ? WHERE id = ?`, r.RootCause, r.Lessons, a.Username, now, now, id); err != nil {
			return fmt.Errorf("incident: review: %w", err)
		}
		msg := i18n.M("incident.timeline.review")
		if err := entry(ctx, tx, id, now, a.Username, EntryReview, "post-incident review recorded", &msg); err != nil {
			return err
		}
		out = Review{RootCause: r.RootCause, Lessons: r.Lessons, ReviewedBy: a.Username, ReviewedAt: now}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.review", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): post-incident review recorded", id, in.Title),
			Msg: trail.Msg("trail.summary.incident.review", id, in.Title), After: r})
		return err
	})
	if err != nil {
		return Review{}, err
	}
	return out, nil
}

func review(ctx context.Context, q store.Querier, id int64) (*Review, error) {
	var r Review
	var at store.Time
	err := q.QueryRowContext(ctx, `SELECT root_cause, lessons, reviewed_by, reviewed_at FROM incidents WHERE id = ?`, id).
		Scan(&r.RootCause, &r.Lessons, &r.ReviewedBy, &at)
	if err != nil {
		return nil, fmt.Errorf("incident: review: %w", err)
	}
	if !at.Valid {
		return nil, nil
	}
	r.ReviewedAt = at.Time
	return &r, nil
}

// AddTask adds a follow-up task to incident id.
func (s *Service) AddTask(ctx context.Context, a actor.Actor, id int64, t TaskInput) (Task, error) {
	var err error
	if t.Title, err = text("title", t.Title, 500, true); err != nil {
		return Task{}, err
	}
	if t.Assignee, err = text("assignee", t.Assignee, 100, false); err != nil {
		return Task{}, err
	}
	if t.Due != nil {
		d := t.Due.UTC().Truncate(time.Microsecond)
		t.Due = &d
	}
	var out Task
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Status == StatusClosed {
			return problem.Conflict("the incident is closed").WithMsg("incident.error.closed")
		}
		now := s.now()
		out = Task{Title: t.Title, Assignee: t.Assignee, Due: t.Due, CreatedBy: a.Username, CreatedAt: now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO incident_tasks (incident_id, title, assignee, due, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, t.Title, t.Assignee, t.Due, a.Username, now).Scan(&out.ID); err != nil {
			return fmt.Errorf("incident: task: %w", err)
		}
		msg := i18n.M("incident.timeline.task_add", t.Title, t.Assignee)
		if err := entry(ctx, tx, id, now, a.Username, EntryTask, "task added: "+t.Title, &msg); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.task_add", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): task %d added: %s", id, in.Title, out.ID, t.Title),
			Msg: trail.Msg("trail.summary.incident.task_add", id, in.Title, out.ID, t.Title), After: t})
		return err
	})
	if err != nil {
		return Task{}, err
	}
	return out, nil
}

// SetTaskDone marks follow-up task taskID of incident id done (or not done again).
func (s *Service) SetTaskDone(ctx context.Context, a actor.Actor, id, taskID int64, done bool) (Task, error) {
	var out Task
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		t, err := task(ctx, tx, id, taskID)
		if err != nil {
			return err
		}
		if t.Done == done {
			out = t
			return nil
		}
		now := s.now()
		var doneAt *time.Time
		if done {
			doneAt = &now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_tasks SET done = ?, done_at = ? WHERE id = ?`, done, doneAt, taskID); err != nil {
			return fmt.Errorf("incident: task: %w", err)
		}
		t.Done, t.DoneAt = done, doneAt
		out = t
		key, word, action := "incident.timeline.task_done", "done", "incident.task_done"
		if !done {
			key, word, action = "incident.timeline.task_undone", "not done", "incident.task_undone"
		}
		msg := i18n.M(key, t.Title)
		if err := entry(ctx, tx, id, now, a.Username, EntryTask, fmt.Sprintf("task %s: %s", word, t.Title), &msg); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): task %d %s", id, in.Title, taskID, word),
			Msg: trail.Msg("trail.summary."+action, id, in.Title, taskID), After: map[string]any{"task": taskID, "done": done}})
		return err
	})
	if err != nil {
		return Task{}, err
	}
	return out, nil
}

const taskColumns = `id, title, assignee, due, done, done_at, created_by, created_at`

func scanTask(sc interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var due, doneAt, created store.Time
	if err := sc.Scan(&t.ID, &t.Title, &t.Assignee, &due, &t.Done, &doneAt, &t.CreatedBy, &created); err != nil {
		return Task{}, err
	}
	t.Due, t.DoneAt, t.CreatedAt = due.Ptr(), doneAt.Ptr(), created.Time
	return t, nil
}

func task(ctx context.Context, q store.Querier, id, taskID int64) (Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM incident_tasks WHERE id = ? AND incident_id = ?`, taskID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, problem.NotFound("task")
	}
	if err != nil {
		return Task{}, fmt.Errorf("incident: task: %w", err)
	}
	return t, nil
}

func tasks(ctx context.Context, q store.Querier, id int64) ([]Task, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+taskColumns+` FROM incident_tasks WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("incident: tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
