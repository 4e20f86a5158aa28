package risk

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Task is a treatment task of a risk. A playbook's task has its title as a catalogue
// key (TitleMsg; Title is it in English) and the level whose playbook added it.
type Task struct {
	ID        int64         `json:"id"`
	RiskID    int64         `json:"risk_id"`
	Title     string        `json:"title"`
	TitleMsg  *i18n.Message `json:"title_msg,omitempty"`
	Link      string        `json:"link,omitempty"`
	Playbook  string        `json:"playbook,omitempty"`
	Assignee  string        `json:"assignee"`
	DueAt     *time.Time    `json:"due_at"`
	DoneAt    *time.Time    `json:"done_at"`
	DoneBy    string        `json:"done_by,omitempty"`
	CreatedBy string        `json:"created_by"`
	CreatedAt time.Time     `json:"created_at"`
}

// Overdue reports whether the task is not done and its due date is before now.
func (t Task) Overdue(now time.Time) bool {
	return t.DoneAt == nil && t.DueAt != nil && t.DueAt.Before(now)
}

// TaskInput is a task a person adds.
type TaskInput struct {
	Title    string     `json:"title"`
	Assignee string     `json:"assignee"`
	DueAt    *time.Time `json:"due_at"`
}

const taskColumns = `id, risk_id, title, title_msg, link, playbook, assignee, due_at, done_at, done_by, created_by, created_at`

func scanTask(sc store.Scanner) (Task, error) {
	var t Task
	var msg string
	var due, done, created store.Time
	if err := sc.Scan(&t.ID, &t.RiskID, &t.Title, &msg, &t.Link, &t.Playbook, &t.Assignee, &due, &done, &t.DoneBy,
		&t.CreatedBy, &created); err != nil {
		return t, err
	}
	if msg != "" {
		var m i18n.Message
		if err := json.Unmarshal([]byte(msg), &m); err != nil {
			return t, err
		}
		t.TitleMsg = &m
	}
	t.DueAt, t.DoneAt, t.CreatedAt = due.Ptr(), done.Ptr(), created.Time
	return t, nil
}

func (s *Service) tasks(ctx context.Context, q store.Querier, riskID int64) ([]Task, error) {
	out, err := store.Collect(ctx, q, scanTask, `SELECT `+taskColumns+` FROM risk_tasks WHERE risk_id = ? ORDER BY id`, riskID)
	if err != nil {
		return nil, fmt.Errorf("risk: tasks: %w", err)
	}
	if out == nil {
		out = []Task{}
	}
	return out, nil
}

// insertTask stores t (its RiskID set) in tx.
func (s *Service) insertTask(ctx context.Context, tx *store.Tx, a actor.Actor, t Task) (int64, error) {
	var msg []byte
	if t.TitleMsg != nil {
		var err error
		if msg, err = json.Marshal(t.TitleMsg); err != nil {
			return 0, fmt.Errorf("risk: task: %w", err)
		}
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO risk_tasks (risk_id, title, title_msg, link, playbook, assignee, due_at,
		created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.RiskID, t.Title, string(msg), t.Link, t.Playbook,
		t.Assignee, store.NullTime(t.DueAt), a.Username, s.now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("risk: task: %w", err)
	}
	return id, nil
}

// AddTask adds a treatment task to risk riskID.
func (s *Service) AddTask(ctx context.Context, a actor.Actor, riskID int64, in TaskInput) (Task, error) {
	title, err := text("title", in.Title, 300, true)
	if err != nil {
		return Task{}, err
	}
	assignee, err := s.username(ctx, a, "assignee", in.Assignee, false)
	if err != nil {
		return Task{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, riskID)
		if err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return problem.Conflict("a closed risk takes no tasks").WithMsg("risk.error.closed")
		}
		var due *time.Time
		if in.DueAt != nil {
			d := in.DueAt.UTC().Truncate(time.Microsecond)
			due = &d
		}
		if id, err = s.insertTask(ctx, tx, a, Task{RiskID: riskID, Title: title, Assignee: assignee, DueAt: due}); err != nil {
			return err
		}
		dueText := "-"
		if due != nil {
			dueText = due.Format(time.DateOnly)
		}
		return s.record(ctx, tx, a, r, "risk.task_add", fmt.Sprintf("risk %d %s: task %s for %s due %s", r.ID, r.Title, title, assignee, dueText),
			trail.Msg("trail.summary.risk.task_add", r.ID, r.Title, title, assignee, dueText), nil, in)
	})
	if err != nil {
		return Task{}, err
	}
	return s.task(ctx, a, id)
}

// task reads task id through its risk's scope.
func (s *Service) task(ctx context.Context, a actor.Actor, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM risk_tasks WHERE id = ?`, id))
	if err != nil {
		return Task{}, problem.NotFound("task")
	}
	if _, err := s.get(ctx, s.db, a, t.RiskID); err != nil {
		return Task{}, problem.NotFound("task")
	}
	return t, nil
}

// CompleteTask marks task taskID of risk riskID done (done false: not done again).
func (s *Service) CompleteTask(ctx context.Context, a actor.Actor, riskID, taskID int64, done bool) (Task, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, riskID)
		if err != nil {
			return err
		}
		t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM risk_tasks WHERE id = ? AND risk_id = ?`, taskID, riskID))
		if err != nil {
			return problem.NotFound("task")
		}
		if (t.DoneAt != nil) == done {
			return nil
		}
		var at *time.Time
		by := ""
		if done {
			now := s.now()
			at, by = &now, a.Username
		}
		if _, err := tx.ExecContext(ctx, `UPDATE risk_tasks SET done_at = ?, done_by = ? WHERE id = ?`, store.NullTime(at), by, taskID); err != nil {
			return fmt.Errorf("risk: task: %w", err)
		}
		action := "risk.task_done"
		if !done {
			action = "risk.task_reopen"
		}
		return s.record(ctx, tx, a, r, action, fmt.Sprintf("risk %d %s: task %s %s", r.ID, r.Title, t.Title, map[bool]string{true: "done", false: "not done"}[done]),
			trail.Msg("trail.summary."+action, r.ID, r.Title, t.Title), map[string]Change{"task": {From: t.ID, To: done}}, nil)
	})
	if err != nil {
		return Task{}, err
	}
	return s.task(ctx, a, taskID)
}
